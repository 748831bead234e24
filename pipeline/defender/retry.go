package defender

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"math/rand/v2"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// Retry bounds how failed calls are tried again.
type Retry struct {
	// MaxAttempts is how many times one call is sent in all, the first
	// included. Defaults to 6.
	MaxAttempts int
	// BaseDelay is the backoff before the first retry; it doubles on each
	// one, with jitter. Defaults to 1s.
	BaseDelay time.Duration
	// MaxDelay caps one backoff. Defaults to 1 minute.
	MaxDelay time.Duration
	// MaxRetryAfter is the longest Retry-After the client waits out; a 429
	// asking for more fails at once. Defaults to 10 minutes.
	MaxRetryAfter time.Duration
}

func (r Retry) withDefaults() Retry {
	if r.MaxAttempts <= 0 {
		r.MaxAttempts = 6
	}
	if r.BaseDelay <= 0 {
		r.BaseDelay = time.Second
	}
	if r.MaxDelay <= 0 {
		r.MaxDelay = time.Minute
	}
	if r.MaxRetryAfter <= 0 {
		r.MaxRetryAfter = 10 * time.Minute
	}
	return r
}

// verdict says what to do after a failed attempt.
type verdict int

const (
	giveUp       verdict = iota
	retryLater           // wait, then send again
	refreshToken         // get a new token, then send again at once
)

// outcome is what one attempt produced: a transport or body error, or a
// response status with its headers; refreshed tells that the token was
// already renewed once for this call.
type outcome struct {
	err       error
	status    int
	header    http.Header
	refreshed bool
}

// shouldRetry is the one place that decides whether a failed attempt is
// tried again, and after how long. attempt counts from 1. Cancellation is
// checked first: once the caller has given up, nothing is retried, whatever
// the error looks like.
func (r Retry) shouldRetry(ctx context.Context, attempt int, o outcome) (verdict, time.Duration) {
	if ctx.Err() != nil || errors.Is(o.err, context.Canceled) || errors.Is(o.err, context.DeadlineExceeded) {
		return giveUp, 0
	}
	if o.status == http.StatusUnauthorized {
		if o.refreshed {
			return giveUp, 0
		}
		return refreshToken, 0
	}
	if attempt >= r.MaxAttempts {
		return giveUp, 0
	}
	if o.err != nil {
		if permanent(o.err) {
			return giveUp, 0
		}
		return retryLater, r.backoff(attempt)
	}
	switch o.status {
	case http.StatusTooManyRequests, http.StatusServiceUnavailable:
		if d, ok := retryAfter(o.header, time.Now()); ok {
			if d > r.MaxRetryAfter {
				return giveUp, 0
			}
			return retryLater, d
		}
		return retryLater, r.backoff(attempt)
	case http.StatusRequestTimeout, http.StatusInternalServerError,
		http.StatusBadGateway, http.StatusGatewayTimeout:
		return retryLater, r.backoff(attempt)
	}
	return giveUp, 0
}

// permanent reports transport errors that no retry can cure: a refused
// certificate or a URL this client will not follow.
func permanent(err error) bool {
	var (
		unknownCA x509.UnknownAuthorityError
		invalid   x509.CertificateInvalidError
		host      x509.HostnameError
		verify    *tls.CertificateVerificationError
		perm      *permanentError
	)
	return errors.As(err, &unknownCA) || errors.As(err, &invalid) ||
		errors.As(err, &host) || errors.As(err, &verify) ||
		errors.As(err, &perm) || errors.Is(err, ErrInsecureURL)
}

// backoff is the wait before retry number attempt: BaseDelay doubled per
// attempt, capped at MaxDelay, with its upper half jittered so that clients
// refused together do not return together.
func (r Retry) backoff(attempt int) time.Duration {
	d := r.BaseDelay
	for i := 1; i < attempt && d < r.MaxDelay; i++ {
		d *= 2
	}
	d = min(d, r.MaxDelay)
	half := d / 2
	return half + rand.N(half+1)
}

// retryAfter reads a Retry-After header given in seconds or as an HTTP date
// (RFC 9110 section 10.2.3).
func retryAfter(h http.Header, now time.Time) (time.Duration, bool) {
	v := strings.TrimSpace(h.Get("Retry-After"))
	if v == "" {
		return 0, false
	}
	if s, err := strconv.Atoi(v); err == nil {
		if s < 0 {
			return 0, false
		}
		return time.Duration(s) * time.Second, true
	}
	if t, err := http.ParseTime(v); err == nil {
		return max(t.Sub(now), 0), true
	}
	return 0, false
}
