package defender

import (
	"errors"
	"io"
	"strings"
	"testing"
)

func TestRedact(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		want    string
		secrets []string // must not survive
	}{
		{
			name: "sas url",
			in:   "https://acct.blob.core.windows.net/c/2022-07-11/1101/x.json.gz?sv=2020-08-04&st=2022-07-11T13%3A10%3A06Z&se=2022-07-11T16%3A10%3A06Z&sr=b&sp=r&sig=muN8Sq6rVN6bFMtR0u3S5Wzh3D9qNPgN5vpU7lWvULg%3D",
			want: "https://acct.blob.core.windows.net/c/2022-07-11/1101/x.json.gz?sv=REDACTED&st=REDACTED&se=REDACTED&sr=REDACTED&sp=REDACTED&sig=REDACTED",
		},
		{
			name:    "url in go error",
			in:      `Get "https://h/c/b.gz?se=2030-01-01&sig=abc%2Bdef": dial tcp 127.0.0.1:1: connect: refused`,
			want:    `Get "https://h/c/b.gz?se=REDACTED&sig=REDACTED": dial tcp 127.0.0.1:1: connect: refused`,
			secrets: []string{"abc%2Bdef"},
		},
		{
			name:    "json escaped ampersand",
			in:      `{"exportFiles":["https://h/b.gz?sv=1\u0026sig=SECRETSIG"]}`,
			secrets: []string{"SECRETSIG"},
		},
		{
			name:    "url nested in a query",
			in:      "https://proxy/?target=https%3A%2F%2Fh%2Fb.gz%3Fsv%3D1%26sig%3DSECRETSIG%26sp%3Dr",
			secrets: []string{"SECRETSIG"},
		},
		{
			name:    "authorization header dump",
			in:      "GET /api/x HTTP/1.1\r\nAuthorization: Bearer abc.def.ghi\r\nAccept: */*\r\n",
			want:    "GET /api/x HTTP/1.1\r\nAuthorization: REDACTED\r\nAccept: */*\r\n",
			secrets: []string{"abc.def.ghi"},
		},
		{
			name:    "header map",
			in:      `map[Accept:[application/json] Authorization:[Bearer s3cr3t-token]]`,
			secrets: []string{"s3cr3t-token"},
		},
		{
			name:    "bare jwt",
			in:      "token eyJ0eXAiOiJKV1QiLCJhbGciOiJub25lIn0.eyJhdWQiOiJ4In0.c2lnbmF0dXJl used",
			want:    "token REDACTED used",
			secrets: []string{"eyJ0eXAi"},
		},
		{
			name:    "oauth form body",
			in:      "grant_type=client_credentials&client_id=app&client_secret=hunter2&scope=x",
			want:    "grant_type=client_credentials&client_id=app&client_secret=REDACTED&scope=x",
			secrets: []string{"hunter2"},
		},
		{
			name: "words that merely contain a parameter name",
			in:   "inside=1 signature_check=ok sigma=2 use=3 ssh=4",
			want: "inside=1 signature_check=ok sigma=2 use=3 ssh=4",
		},
		{
			name: "no query",
			in:   "https://acct.blob.core.windows.net/c/OrgId=x/_RbacGroupId=39/part-0.json.gz",
			want: "https://acct.blob.core.windows.net/c/OrgId=x/_RbacGroupId=39/part-0.json.gz",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := Redact(tt.in)
			if tt.want != "" && got != tt.want {
				t.Errorf("Redact:\n got %q\nwant %q", got, tt.want)
			}
			for _, s := range tt.secrets {
				if strings.Contains(got, s) {
					t.Errorf("Redact(%q) = %q: still holds %q", tt.in, got, s)
				}
			}
			if again := Redact(got); again != got {
				t.Errorf("Redact is not idempotent: %q then %q", got, again)
			}
		})
	}
}

func TestRedactError(t *testing.T) {
	if RedactError(nil) != nil {
		t.Fatal("RedactError(nil) != nil")
	}
	base := &wrapped{msg: "get https://h/b?sig=SECRET", err: io.ErrUnexpectedEOF}
	err := RedactError(base)
	if strings.Contains(err.Error(), "SECRET") {
		t.Errorf("message still holds the signature: %s", err)
	}
	if !errors.Is(err, io.ErrUnexpectedEOF) {
		t.Error("errors.Is lost the wrapped error")
	}
	if RedactError(err) != err {
		t.Error("redacting twice wrapped twice")
	}
}

type wrapped struct {
	msg string
	err error
}

func (w *wrapped) Error() string { return w.msg }
func (w *wrapped) Unwrap() error { return w.err }
