package defender

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/url"
	"regexp"
	"strconv"
	"time"
)

// ExportFiles is the answer of a via-files export call.
type ExportFiles struct {
	// ExportFiles are the download links of the snapshot's files, each
	// carrying a live SAS signature: never log them; log a link through
	// Redact, or its path. Empty when the service has no snapshot yet.
	ExportFiles []string
	// GeneratedTime is when the service generated the snapshot.
	GeneratedTime time.Time
	// Raw is the response body as received. It holds the SAS signatures
	// too; store Redacted() instead where it outlives the run.
	Raw []byte
}

// Redacted returns Raw with every SAS parameter value replaced.
func (e *ExportFiles) Redacted() []byte { return []byte(Redact(string(e.Raw))) }

// maxSASValidHours is the largest sasValidHours any version of the
// documentation allows; the service may refuse less.
const maxSASValidHours = 24

// ExportFiles calls the via-files endpoint at path, such as
// "/api/machines/HardwareFirmwareInventoryExport", asking for links valid
// for sasValidHours hours (0 leaves the service's default). The call is
// drawn from the export budget (5 a minute, 20 an hour): each one counts,
// so a caller refreshing expired links should make one call for all of
// them. Every link must be https unless AllowHTTP is set.
func (c *Client) ExportFiles(ctx context.Context, path string, sasValidHours int) (*ExportFiles, error) {
	if sasValidHours < 0 || sasValidHours > maxSASValidHours {
		return nil, fmt.Errorf("defender: sasValidHours %d: want 0 to %d", sasValidHours, maxSASValidHours)
	}
	u, err := c.resolve(path)
	if err != nil {
		return nil, err
	}
	if sasValidHours > 0 {
		setQuery(u, "sasValidHours", strconv.Itoa(sasValidHours))
	}

	var out *ExportFiles
	err = c.get(ctx, c.exports, u, func(body io.Reader) error {
		raw, err := io.ReadAll(body)
		if err != nil {
			return err
		}
		out, err = c.parseExport(raw)
		return err
	})
	if err != nil {
		return nil, err
	}
	c.log.Info("export files listed", "path", u.Path, "files", len(out.ExportFiles),
		"generated", out.GeneratedTime)
	return out, nil
}

// parseExport decodes an export answer and checks every link.
func (c *Client) parseExport(raw []byte) (*ExportFiles, error) {
	// encoding/json matches keys regardless of case, so "GeneratedTime"
	// and "ExportFiles" are read too.
	var body struct {
		ExportFiles   []string `json:"exportFiles"`
		GeneratedTime string   `json:"generatedTime"`
	}
	if err := json.NewDecoder(bytes.NewReader(raw)).Decode(&body); err != nil {
		return nil, &permanentError{fmt.Errorf("decode export answer: %w", err)}
	}
	out := &ExportFiles{ExportFiles: body.ExportFiles, Raw: raw}
	if body.GeneratedTime != "" {
		t, err := time.Parse(time.RFC3339Nano, body.GeneratedTime)
		if err != nil {
			return nil, &permanentError{fmt.Errorf("decode export answer: generatedTime %q: %w", body.GeneratedTime, err)}
		}
		out.GeneratedTime = t.UTC()
	}
	for _, f := range out.ExportFiles {
		u, err := url.Parse(f)
		if err != nil || u.Host == "" {
			return nil, &permanentError{fmt.Errorf("export file link %q is not a url", Redact(f))}
		}
		if err := checkScheme(u, c.allowHTTP); err != nil {
			return nil, &permanentError{err}
		}
		c.checkSnapshotFolder(u, out.GeneratedTime)
	}
	return out, nil
}

// snapshotFolder finds the YYYY-MM-DD/HHMM segment of a file link.
var snapshotFolder = regexp.MustCompile(`/(\d{4}-\d{2}-\d{2})/(\d{4})/`)

// checkSnapshotFolder warns when a link's YYYY-MM-DD/HHMM folder does not
// match generatedTime: the files may then belong to another snapshot.
func (c *Client) checkSnapshotFolder(u *url.URL, generated time.Time) {
	m := snapshotFolder.FindStringSubmatch(u.Path)
	if m == nil || generated.IsZero() {
		return
	}
	if want := generated.Format("2006-01-02/1504"); m[1]+"/"+m[2] != want {
		c.log.Warn("export file folder does not match generatedTime",
			"blob", u.Path, "generated", generated)
	}
}
