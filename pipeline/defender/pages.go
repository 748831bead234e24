package defender

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/url"
	"strconv"
	"strings"
)

// MaxPageSize is the largest pageSize the service accepts.
const MaxPageSize = 200_000

// Pages reads the JSON pages endpoint at path, such as
// "/api/machines/HardwareFirmwareInventoryByMachine" (a query such as
// "?sinceTime=..." may follow), and calls fn with each page's records in
// order, following @odata.nextLink to the last page.
//
// pageSize is sent as the pageSize parameter; 0 leaves the service's
// default (50,000). A page is read whole before fn sees it, so a page cut
// short is fetched again and fn never sees a record twice; memory is about
// pageSize times the record size (about 1 KB). The records are the raw
// bytes received, keys in whatever case the service sent. fn must not keep
// the slice past its return, but may keep the records.
//
// Each page is drawn from the pages budget (30 a minute, 1,000 an hour).
// A nextLink seen before fails with ErrNextLinkLoop; one that is not on
// the API root's scheme and host fails with ErrInsecureURL, since the token
// is sent with it. An error from fn stops the reading and is returned.
func (c *Client) Pages(ctx context.Context, path string, pageSize int, fn func(page []json.RawMessage) error) error {
	if pageSize < 0 || pageSize > MaxPageSize {
		return fmt.Errorf("defender: pageSize %d: want 0 to %d", pageSize, MaxPageSize)
	}
	u, err := c.resolve(path)
	if err != nil {
		return err
	}
	if pageSize > 0 {
		setQuery(u, "pageSize", strconv.Itoa(pageSize))
	}

	seen := map[string]bool{}
	pages, records := 0, 0
	for u != nil {
		seen[u.String()] = true
		var p page
		err := c.get(ctx, c.pages, u, func(body io.Reader) error {
			p = page{}
			return p.decode(body)
		})
		if err != nil {
			return err
		}
		pages++
		records += len(p.records)
		c.log.Debug("page read", "path", u.Path, "page", pages, "records", len(p.records))
		if err := fn(p.records); err != nil {
			return err
		}
		next, err := c.nextLink(p.next, seen)
		if err != nil {
			return fmt.Errorf("defender: GET %s: page %d: %w", u.Path, pages, err)
		}
		u = next
	}
	c.log.Info("pages read", "path", path, "pages", pages, "records", records)
	return nil
}

// nextLink checks the link to the next page; nil means the last page.
func (c *Client) nextLink(link string, seen map[string]bool) (*url.URL, error) {
	if link == "" {
		return nil, nil
	}
	u, err := url.Parse(link)
	if err != nil {
		return nil, fmt.Errorf("nextLink %q: %w", Redact(link), err)
	}
	if !strings.EqualFold(u.Host, c.base.Host) {
		return nil, fmt.Errorf("%w: nextLink %s is not below the api root %s",
			ErrInsecureURL, Redact(u.Redacted()), c.base.Redacted())
	}
	if err := checkScheme(u, c.allowHTTP); err != nil {
		return nil, err
	}
	if seen[u.String()] {
		return nil, fmt.Errorf("%w: %s was already read", ErrNextLinkLoop, Redact(u.Redacted()))
	}
	return u, nil
}

// page is one decoded JSON page.
type page struct {
	records []json.RawMessage
	next    string
}

// decode reads a page object token by token, so that its records are
// copied once, from the body into their own slices. Keys are matched
// regardless of case; other keys are skipped.
func (p *page) decode(body io.Reader) error {
	dec := json.NewDecoder(body)
	if err := expectDelim(dec, '{'); err != nil {
		return err
	}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return protocol(err)
		}
		key, _ := tok.(string)
		switch {
		case strings.EqualFold(key, "value"):
			err = p.decodeValue(dec)
		case strings.EqualFold(key, "@odata.nextLink"):
			err = dec.Decode(&p.next)
		default:
			var skip json.RawMessage
			err = dec.Decode(&skip)
		}
		if err != nil {
			return protocol(err)
		}
	}
	return protocol(expectDelim(dec, '}'))
}

func (p *page) decodeValue(dec *json.Decoder) error {
	if err := expectDelim(dec, '['); err != nil {
		return err
	}
	for dec.More() {
		var r json.RawMessage
		if err := dec.Decode(&r); err != nil {
			return err
		}
		p.records = append(p.records, r)
	}
	return expectDelim(dec, ']')
}

func expectDelim(dec *json.Decoder, want json.Delim) error {
	tok, err := dec.Token()
	if err != nil {
		return protocol(err)
	}
	if d, ok := tok.(json.Delim); !ok || d != want {
		return &permanentError{fmt.Errorf("decode page: want %q, got %v", want, tok)}
	}
	return nil
}

// protocol marks a malformed page as not worth retrying, and leaves errors
// of the connection (a body cut short) to be retried.
func protocol(err error) error {
	var syntax *json.SyntaxError
	var typ *json.UnmarshalTypeError
	var perm *permanentError
	switch {
	case err == nil, errors.As(err, &perm):
		return err
	case errors.As(err, &syntax), errors.As(err, &typ):
		return &permanentError{fmt.Errorf("decode page: %w", err)}
	case errors.Is(err, io.EOF):
		// The body ended cleanly where more JSON was due: the sender
		// stopped mid-page. Treat it as a cut connection.
		return io.ErrUnexpectedEOF
	}
	return err
}
