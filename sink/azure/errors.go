package azure

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strings"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/mdvm-parquet/mdvm-parquet/sink"
)

// secretPattern matches the values that carry a secret in URLs, connection
// strings and headers: a SAS signature (also URL-encoded, as inside a copy
// source), an account key, a whole SAS in a connection string, and a bearer
// token.
var secretPattern = regexp.MustCompile(
	`(?i)(sig(?:=|%3D)|AccountKey=|SharedAccessSignature=|Bearer\s+)[^&;\s"'<>]+`)

// redact replaces every secret value in s with "REDACTED", keeping its key,
// so an error or log line still tells what kind of thing was there.
func redact(s string) string {
	return secretPattern.ReplaceAllString(s, "${1}REDACTED")
}

// scrubbed carries an error from the SDK or the network with its message
// redacted. The original stays reachable for errors.Is and errors.As.
type scrubbed struct {
	msg string
	err error
}

func (e *scrubbed) Error() string { return e.msg }
func (e *scrubbed) Unwrap() error { return e.err }

// credError marks an error of the token credential: no token could be had.
type credError struct{ err error }

func (e *credError) Error() string { return e.err.Error() }
func (e *credError) Unwrap() error { return e.err }

// wrap turns an error of operation op on the object name into one that names
// both, wraps sink.ErrNotExist or sink.ErrAuth when that is what storage
// said, and holds no secret. It returns nil for nil.
func (b *bucket) wrap(op, name string, err error) error {
	if err == nil {
		return nil
	}
	head := op
	if name != "" {
		head += " " + name
	}

	var ce *credError
	if errors.As(err, &ce) {
		return fmt.Errorf("%s: %w (%s could not get a token: %s)", head, sink.ErrAuth, b.kind, redact(ce.err.Error()))
	}
	var re *azcore.ResponseError
	if !errors.As(err, &re) {
		return fmt.Errorf("%s: %w", head, &scrubbed{msg: describe(err), err: err})
	}
	switch re.StatusCode {
	case http.StatusUnauthorized, http.StatusForbidden:
		return fmt.Errorf("%s: %w (%s; HTTP %d %s)", head, sink.ErrAuth, b.kind, re.StatusCode, redact(re.ErrorCode))
	case http.StatusNotFound:
		if re.ErrorCode == "ContainerNotFound" {
			return fmt.Errorf("%s: container %s not found (HTTP 404)", head, b.container)
		}
		return fmt.Errorf("%s: %w", head, sink.ErrNotExist)
	}
	return fmt.Errorf("%s: %w", head, &scrubbed{
		msg: fmt.Sprintf("HTTP %d %s", re.StatusCode, redact(re.ErrorCode)),
		err: err,
	})
}

// describe gives the message of an error that is not a storage answer. A
// network error quotes the request URL, whose query may hold a SAS; the
// query is dropped, and anything else that looks secret redacted.
func describe(err error) string {
	var ue *url.Error
	if errors.As(err, &ue) {
		u := ue.URL
		if i := strings.IndexByte(u, '?'); i >= 0 {
			u = u[:i]
		}
		return redact(fmt.Sprintf("%s %s: %v", ue.Op, u, ue.Err))
	}
	return redact(err.Error())
}

// isNotFound reports whether storage answered 404 for the object.
func isNotFound(err error) bool {
	var re *azcore.ResponseError
	return errors.As(err, &re) && re.StatusCode == http.StatusNotFound && re.ErrorCode != "ContainerNotFound"
}
