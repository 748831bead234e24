package defendertest

import (
	"net/http"
	"strings"
	"time"
)

// Fault is an error answer injected in place of an API call's answer.
type Fault struct {
	// Path limits the fault to one API path; "" matches every API path.
	Path string
	// Status is the HTTP status to answer.
	Status int
	// Code and Message fill the error body; they default to the service's
	// usual ones for Status.
	Code, Message string
	// RetryAfter is the Retry-After header to send, seconds or an HTTP
	// date; "" sends none.
	RetryAfter string
}

type fault struct {
	Fault
	left int
}

// Fail answers the next n API calls matching f.Path with f. Faults queue:
// one set later applies once those set before it are used up. The calls are
// counted against the rate limits like any other.
func (s *Server) Fail(n int, f Fault) {
	if f.Code == "" || f.Message == "" {
		code, msg := defaultFault(f.Status)
		f.Code = orDefault(f.Code, code)
		f.Message = orDefault(f.Message, msg)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults = append(s.faults, fault{Fault: f, left: n})
}

// Throttle answers the next n API calls with 429 and the given
// Retry-After ("" for none).
func (s *Server) Throttle(n int, retryAfter string) {
	s.Fail(n, Fault{Status: http.StatusTooManyRequests, RetryAfter: retryAfter})
}

// ServerError answers the next n API calls with 500.
func (s *Server) ServerError(n int) { s.Fail(n, Fault{Status: http.StatusInternalServerError}) }

// Forbidden answers the next n API calls with the 403 of an application
// that lacks the permission.
func (s *Server) Forbidden(n int) { s.Fail(n, Fault{Status: http.StatusForbidden}) }

// Unauthorized answers the next n API calls with 401, as for a token the
// service no longer accepts.
func (s *Server) Unauthorized(n int) { s.Fail(n, Fault{Status: http.StatusUnauthorized}) }

// nextFault takes one use of the first fault matching path.
func (s *Server) nextFault(path string) (Fault, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for i := range s.faults {
		f := &s.faults[i]
		if f.left > 0 && (f.Path == "" || strings.EqualFold(f.Path, path)) {
			f.left--
			return f.Fault, true
		}
	}
	return Fault{}, false
}

func defaultFault(status int) (code, msg string) {
	switch status {
	case http.StatusUnauthorized:
		return "Unauthorized", "Authorization has been denied for this request."
	case http.StatusForbidden:
		return "Forbidden", "The application does not have any of the required application permissions (Software.Read.All) to access the resource."
	case http.StatusTooManyRequests:
		return "TooManyRequests", "API calls quota exceeded!"
	case http.StatusInternalServerError:
		return "InternalServerError", "An unexpected error occurred."
	case http.StatusServiceUnavailable:
		return "ServiceUnavailable", "The service is temporarily unavailable."
	}
	return http.StatusText(status), http.StatusText(status)
}

func orDefault(v, def string) string {
	if v != "" {
		return v
	}
	return def
}

// window is one rate limit: at most calls arrivals in any span of per.
type window struct {
	calls int
	per   time.Duration
	times []time.Time
}

// newLimits builds the documented limits, in the server's time scale:
// export calls 5 a minute and 20 an hour, JSON pages 30 and 1,000.
func newLimits(o Options) map[string][]*window {
	if o.Unlimited {
		return map[string][]*window{}
	}
	m, h := o.Minute, 60*o.Minute
	return map[string][]*window{
		"export": {{calls: 5, per: m}, {calls: 20, per: h}},
		"pages":  {{calls: 30, per: m}, {calls: 1000, per: h}},
	}
}

// admit counts a call against its class's limits, or refuses it with how
// long until it would fit. Refused calls are not counted.
func (s *Server) admit(pages bool) (bool, time.Duration) {
	class := "export"
	if pages {
		class = "pages"
	}
	now := time.Now()
	s.mu.Lock()
	defer s.mu.Unlock()
	var wait time.Duration
	for _, w := range s.limits[class] {
		w.forget(now)
		if len(w.times) >= w.calls {
			wait = max(wait, w.times[len(w.times)-w.calls].Add(w.per).Sub(now))
		}
	}
	if wait > 0 {
		return false, wait
	}
	for _, w := range s.limits[class] {
		w.times = append(w.times, now)
	}
	return true, 0
}

// forget drops arrivals that have left the window (now-per, now].
func (w *window) forget(now time.Time) {
	i := 0
	for i < len(w.times) && !w.times[i].After(now.Add(-w.per)) {
		i++
	}
	w.times = w.times[i:]
}
