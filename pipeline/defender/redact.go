package defender

import "regexp"

// sasParams are the query parameters of a shared access signature and of
// OAuth requests whose values must never be shown. The signature (sig) is the
// secret; the others are hidden too so that a redacted URL cannot be told
// apart from another by its expiry or permissions.
const sasParams = `sig|se|st|sv|sp|sr|spr|sip|ss|srt|ses|sdd|skoid|sktid|skt|ske|sks|skv|` +
	`saoid|suoid|scid|client_secret|client_assertion|access_token|refresh_token|assertion|password`

// A parameter starts after one of these: a URL's ? or &, a separator or quote
// in prose, or the escaped & that JSON encoders write (\u0026) and the
// percent-encoded ? and & of a URL nested in a query string.
const paramStart = `(^|[?&;\s"'(,]|\\u0026|%26|%3[fF])`

var redactions = []struct {
	re   *regexp.Regexp
	with string
}{
	// name=value: the value runs to the next separator.
	{regexp.MustCompile(`(?i)` + paramStart + `(` + sasParams + `)=[^&\s"'<>\\]*`), `${1}${2}=REDACTED`},
	// name%3Dvalue inside an encoded URL: hide the rest of the URL.
	{regexp.MustCompile(`(?i)` + paramStart + `(` + sasParams + `)%3[dD][^\s"'<>\\]*`), `${1}${2}%3DREDACTED`},
	// Authorization headers, in HTTP dumps, JSON and Go's %v of a header map.
	{regexp.MustCompile(`(?i)(authorization"?\s*[:=]\s*\[?"?)[^"\]\r\n]*`), `${1}REDACTED`},
	{regexp.MustCompile(`(?i)(bearer\s+)[A-Za-z0-9\-._~+/]+=*`), `${1}REDACTED`},
	// A JSON web token wherever it stands.
	{regexp.MustCompile(`eyJ[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]*`), `REDACTED`},
}

// Redact returns s with every secret this package knows the shape of
// replaced by REDACTED: the values of SAS query parameters (sig, se, st, sv,
// sp, ...) and OAuth parameters (client_secret, access_token, ...), the value
// of an Authorization header, bearer tokens and JSON web tokens. It works on
// URLs, error messages, HTTP dumps and JSON alike; everything the client logs
// or returns as an error has gone through it.
func Redact(s string) string {
	for _, r := range redactions {
		s = r.re.ReplaceAllString(s, r.with)
	}
	return s
}

// RedactError wraps err so that its message goes through Redact, while
// errors.Is and errors.As still see err. It returns nil for a nil err.
func RedactError(err error) error {
	if err == nil {
		return nil
	}
	if _, ok := err.(*redactedError); ok {
		return err
	}
	return &redactedError{err: err}
}

type redactedError struct{ err error }

func (e *redactedError) Error() string { return Redact(e.err.Error()) }
func (e *redactedError) Unwrap() error { return e.err }
