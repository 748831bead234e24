package azure

import (
	"errors"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore/runtime"
	"github.com/mdvm-parquet/mdvm-parquet/sink"
)

func TestRedact(t *testing.T) {
	tests := []struct {
		name, in, want string
	}{
		{"none", "upload x: HTTP 500 InternalError", "upload x: HTTP 500 InternalError"},
		{"sas query", "GET https://a.blob.core.windows.net/c/x?sv=2024&sig=abc%2Bdef%3D&se=2025", "GET https://a.blob.core.windows.net/c/x?sv=2024&sig=REDACTED&se=2025"},
		{"sig last", "x?sp=r&sig=abc", "x?sp=r&sig=REDACTED"},
		{"upper case", "x?SIG=abc&y=1", "x?SIG=REDACTED&y=1"},
		{"encoded in a copy source", "x-ms-copy-source: https%3A%2F%2Fa%2Fc%3Fsig%3Dabc%26sp%3Dr", "x-ms-copy-source: https%3A%2F%2Fa%2Fc%3Fsig%3DREDACTED"}, // the rest goes too: an encoded signature holds "%"
		{"quoted", `Put "https://a/c?sig=abc": EOF`, `Put "https://a/c?sig=REDACTED": EOF`},
		{"account key", "AccountName=a;AccountKey=k3y+/==;EndpointSuffix=x", "AccountName=a;AccountKey=REDACTED;EndpointSuffix=x"},
		{"sas in connection string", "BlobEndpoint=https://a/;SharedAccessSignature=sv=1&sig=abc", "BlobEndpoint=https://a/;SharedAccessSignature=REDACTED&sig=REDACTED"},
		{"bearer", "Authorization: Bearer eyJ0eXAi.x.y", "Authorization: Bearer REDACTED"},
		{"two", "a?sig=1 b?sig=2", "a?sig=REDACTED b?sig=REDACTED"},
		{"word signature kept", "the signature is wrong", "the signature is wrong"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := redact(tc.in); got != tc.want {
				t.Errorf("redact(%q)\n got %q\nwant %q", tc.in, got, tc.want)
			}
		})
	}
}

// stopper matches the characters that end a secret value for redact.
var stopper = regexp.MustCompile(`[&;\s"'<>]`)

func FuzzRedact(f *testing.F) {
	f.Add("x?sig=abc", "abcdefgh")
	f.Add("AccountKey=", "k3y+/==")
	f.Fuzz(func(t *testing.T, prefix, secret string) {
		if len(secret) < 4 || stopper.MatchString(secret) {
			return // the value would end early, by design
		}
		for _, key := range []string{"sig=", "SIG%3d", "AccountKey=", "SharedAccessSignature="} {
			out := redact(prefix + "?" + key + secret)
			if strings.Contains(out, key+secret) {
				t.Fatalf("redact kept %q in %q", key+secret, out)
			}
		}
	})
}

func TestIsMicrosoftHost(t *testing.T) {
	tests := []struct {
		authority string
		want      bool
	}{
		{"", true},
		{"https://login.microsoftonline.com/", true},
		{"https://login.microsoftonline.us", true},
		{"login.chinacloudapi.cn", true},
		{"https://LOGIN.MICROSOFTONLINE.COM.", true},
		{"https://adfs.contoso.local/adfs", false},
		{"https://127.0.0.1:8443", false},
		{"https://login.microsoftonline.com.evil.example", false},
	}
	for _, tc := range tests {
		if got := isMicrosoftHost(tc.authority); got != tc.want {
			t.Errorf("isMicrosoftHost(%q): got %v, want %v", tc.authority, got, tc.want)
		}
	}
}

func TestParseConnectionString(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want connString
		err  bool
	}{
		{
			name: "account key",
			in:   "DefaultEndpointsProtocol=https;AccountName=acct;AccountKey=a2V5;EndpointSuffix=core.windows.net",
			want: connString{endpoint: "https://acct.blob.core.windows.net", account: "acct", key: "a2V5"},
		},
		{
			name: "blob endpoint and sas",
			in:   "BlobEndpoint=https://acct.blob.core.windows.net/;SharedAccessSignature=?sv=1&sig=x",
			want: connString{endpoint: "https://acct.blob.core.windows.net", sas: "sv=1&sig=x"},
		},
		{
			name: "sovereign suffix, no protocol",
			in:   "AccountName=gov;AccountKey=a2V5;EndpointSuffix=core.usgovcloudapi.net;",
			want: connString{endpoint: "https://gov.blob.core.usgovcloudapi.net", account: "gov", key: "a2V5"},
		},
		{
			name: "development storage",
			in:   "UseDevelopmentStorage=true",
			want: connString{endpoint: devEndpoint, account: devAccount, key: devKey},
		},
		{name: "empty", in: "", err: true},
		{name: "no key", in: "AccountName=a", err: true},
		{name: "no account", in: "AccountKey=a2V5", err: true},
		{name: "garbage", in: "hello", err: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := parseConnectionString(tc.in)
			if tc.err {
				if err == nil {
					t.Fatalf("got %+v, want an error", got)
				}
				if tc.in != "" && strings.Contains(err.Error(), tc.in) {
					t.Fatalf("error %q quotes the connection string", err)
				}
				return
			}
			if err != nil || got != tc.want {
				t.Fatalf("got %+v, %v; want %+v", got, err, tc.want)
			}
		})
	}
}

func TestCheckContainer(t *testing.T) {
	for _, ok := range []string{"abc", "lake-01", "$root", strings.Repeat("a", 63)} {
		if err := CheckContainer(ok); err != nil {
			t.Errorf("check %q: %v", ok, err)
		}
	}
	for _, bad := range []string{"", "ab", "Lake", "-lake", "lake-", "la--ke", "la_ke", strings.Repeat("a", 64)} {
		if err := CheckContainer(bad); err == nil {
			t.Errorf("check %q: got nil, want an error", bad)
		}
	}
}

func TestNewRefusesConfig(t *testing.T) {
	const key = "a2V5a2V5a2V5"
	tests := []struct {
		name string
		cfg  Config
		want string
	}{
		{"no container", Config{Account: "a"}, "container name"},
		{"bad prefix", Config{Account: "a", Container: "lake", Prefix: "a/../b"}, "prefix"},
		{"no account", Config{Container: "lake", SASToken: "sv=1&sig=abc"}, "no storage account"},
		{"sas without signature", Config{Account: "a", Container: "lake", SASToken: "sv=1&sp=r"}, "SAS token"},
		{"account mismatch", Config{Account: "b", Container: "lake", ConnectionString: "AccountName=a;AccountKey=" + key}, "not b"},
		{"bad key", Config{Container: "lake", ConnectionString: "AccountName=a;AccountKey=!!" + key}, "base64"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := New(t.Context(), tc.cfg)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("got %v, want an error about %q", err, tc.want)
			}
			if strings.Contains(err.Error(), key) || strings.Contains(err.Error(), "sig=abc") {
				t.Fatalf("error %q holds a secret", err)
			}
		})
	}
}

// TestNewDefaultCredential builds a bucket on the default chain without
// using it: a request would go looking for a managed identity.
func TestNewDefaultCredential(t *testing.T) {
	t.Setenv(EnvAuthorityHost, "https://login.example.test/")
	b, err := New(t.Context(), Config{Account: "acct", Container: "lake", Prefix: "/mdvm/"})
	if err != nil {
		t.Fatal(err)
	}
	bk := b.(*bucket)
	if bk.kind != kindDefault {
		t.Fatalf("kind: got %q, want %q", bk.kind, kindDefault)
	}
	if got := bk.client.URL(); got != "https://acct.blob.core.windows.net/lake" {
		t.Fatalf("url: got %q", got)
	}
	if got := b.Location("dt=1/x.parquet"); got != "az://lake/mdvm/dt=1/x.parquet" {
		t.Fatalf("location: got %q", got)
	}
}

// TestWrap checks the classification of errors for each credential kind.
func TestWrap(t *testing.T) {
	respErr := func(status int, code string) error {
		req, _ := http.NewRequest(http.MethodPut, "https://a.blob.core.windows.net/c/x?sig=s3cr3t", nil)
		resp := &http.Response{
			StatusCode: status,
			Status:     http.StatusText(status),
			Header:     http.Header{"X-Ms-Error-Code": {code}},
			Body:       io.NopCloser(strings.NewReader("<Error><Message>sig=s3cr3t</Message></Error>")),
			Request:    req,
		}
		return runtime.NewResponseError(resp)
	}
	tests := []struct {
		name   string
		kind   string
		err    error
		is     error
		phrase string
	}{
		{"403 default chain", kindDefault, respErr(403, "AuthorizationPermissionMismatch"), sink.ErrAuth, "Entra ID default credential chain; HTTP 403 AuthorizationPermissionMismatch"},
		{"401 sas", kindSAS, respErr(401, "InvalidAuthenticationInfo"), sink.ErrAuth, "SAS token; HTTP 401"},
		{"no token", kindDefault, &credError{errors.New("DefaultAzureCredential: failed to acquire a token")}, sink.ErrAuth, "could not get a token"},
		{"404", kindSAS, respErr(404, "BlobNotFound"), sink.ErrNotExist, "object does not exist"},
		{"container missing", kindSAS, respErr(404, "ContainerNotFound"), nil, "container c not found"},
		{"500", kindSAS, respErr(500, "InternalError"), nil, "HTTP 500 InternalError"},
		{"network", kindSAS, &url.Error{Op: "Put", URL: "https://a/c/x?sig=s3cr3t", Err: io.ErrUnexpectedEOF}, io.ErrUnexpectedEOF, "Put https://a/c/x: unexpected EOF"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			b := &bucket{kind: tc.kind, container: "c"}
			err := b.wrap("upload", "x", tc.err)
			if tc.is != nil && !errors.Is(err, tc.is) {
				t.Errorf("got %v, want it to wrap %v", err, tc.is)
			}
			if !strings.Contains(err.Error(), tc.phrase) || !strings.HasPrefix(err.Error(), "upload x: ") {
				t.Errorf("got %q, want it to start with the operation and hold %q", err, tc.phrase)
			}
			if strings.Contains(err.Error(), "s3cr3t") {
				t.Errorf("got %q, which holds the signature", err)
			}
		})
	}
}
