package azure_test

import (
	"encoding/base64"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/sas"
	"github.com/mdvm-parquet/mdvm-parquet/sink"
	"github.com/mdvm-parquet/mdvm-parquet/sink/azure"
	"github.com/mdvm-parquet/mdvm-parquet/sink/azure/faulttest"
	"github.com/mdvm-parquet/mdvm-parquet/sink/azurite"
)

// wrongKey is a well-formed account key that is not the account's.
var wrongKey = base64.StdEncoding.EncodeToString([]byte(strings.Repeat("not the key ", 5)))

// foreignSAS returns a container SAS for c signed with wrongKey: well formed,
// and refused by the server.
func foreignSAS(t *testing.T, c string) string {
	cred, err := azblob.NewSharedKeyCredential(azurite.AccountName, wrongKey)
	if err != nil {
		t.Fatal(err)
	}
	q, err := sas.BlobSignatureValues{
		Protocol:      sas.ProtocolHTTPSandHTTP,
		StartTime:     time.Now().Add(-time.Hour),
		ExpiryTime:    time.Now().Add(time.Hour),
		Permissions:   (&sas.ContainerPermissions{Read: true, Write: true, Create: true, List: true, Delete: true}).String(),
		ContainerName: c,
	}.SignWithSharedKey(cred)
	if err != nil {
		t.Fatal(err)
	}
	return q.Encode()
}

// TestAuthRefused checks every operation against a refused credential: the
// error wraps sink.ErrAuth, names the kind of credential, and holds neither
// key nor signature.
func TestAuthRefused(t *testing.T) {
	srv := azurite.Start(t)
	c := srv.NewContainer(t)
	srv.Upload(t, c, "exists", []byte("x"))
	badConn := strings.Replace(srv.ConnectionString(), azurite.AccountKey, wrongKey, 1)
	badSAS := foreignSAS(t, c)
	sig, _ := url.ParseQuery(badSAS)

	tests := []struct {
		name    string
		cfg     azure.Config
		kind    string
		secrets []string
	}{
		{
			name:    "connection string",
			cfg:     azure.Config{ConnectionString: badConn, Container: c},
			kind:    "connection string",
			secrets: []string{wrongKey, wrongKey[:12]},
		},
		{
			name:    "SAS token",
			cfg:     azure.Config{SASToken: badSAS, StorageEndpoint: srv.Endpoint, Container: c},
			kind:    "SAS token",
			secrets: []string{sig.Get("sig"), url.QueryEscape(sig.Get("sig"))},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			b, err := azure.New(t.Context(), tc.cfg)
			if err != nil {
				t.Fatal(err)
			}
			for op, err := range operations(t, b) {
				checkAuthError(t, op, err, tc.kind, tc.secrets)
			}
		})
	}
}

// operations runs every bucket operation and returns its error by name.
func operations(t *testing.T, b sink.Bucket) map[string]error {
	ctx := t.Context()
	errs := map[string]error{
		"put": sink.Put(ctx, b, "new", []byte("data")),
		"put large": func() error {
			w, err := b.Create(ctx, "large")
			if err != nil {
				return err
			}
			w.Write(make([]byte, azure.DefaultBlockSize+1))
			return w.Close()
		}(),
		"list":   b.List(ctx, "", func(sink.Object) error { return nil }),
		"delete": b.Delete(ctx, "exists"),
		"move":   b.Move(ctx, "exists", "moved"),
	}
	_, errs["open"] = b.Open(ctx, "exists")
	return errs
}

func checkAuthError(t *testing.T, op string, err error, kind string, secrets []string) {
	t.Helper()
	if !errors.Is(err, sink.ErrAuth) {
		t.Errorf("%s: got %v, want an error wrapping sink.ErrAuth", op, err)
		return
	}
	msg := err.Error()
	t.Logf("%s: %s", op, msg)
	if !strings.Contains(msg, kind) {
		t.Errorf("%s: %q does not name the credential kind %q", op, msg, kind)
	}
	if strings.Contains(msg, "\n") {
		t.Errorf("%s: %q spans several lines", op, msg)
	}
	for _, s := range secrets {
		if s != "" && strings.Contains(msg, s) {
			t.Errorf("%s: %q holds a secret", op, msg)
		}
	}
	if strings.Contains(msg, "sig=") && !strings.Contains(msg, "sig=REDACTED") {
		t.Errorf("%s: %q holds a signature", op, msg)
	}
}

// TestAuthStatusNotRetried checks that 401 and 403 answers fail at once.
func TestAuthStatusNotRetried(t *testing.T) {
	for _, status := range []int{http.StatusUnauthorized, http.StatusForbidden} {
		b, proxy, _, _ := proxied(t)
		proxy.Inject(faulttest.Fault{Times: 10, Status: status, Code: "AuthorizationPermissionMismatch"})
		err := sink.Put(t.Context(), b, "x", []byte("x"))
		checkAuthError(t, "put", err, "connection string", []string{azurite.AccountKey})
		if !strings.Contains(err.Error(), "AuthorizationPermissionMismatch") {
			t.Errorf("put: %q does not give the service's error code", err)
		}
		if got := proxy.Served(); got != 1 {
			t.Errorf("HTTP %d: served %d times, want 1 (no retry)", status, got)
		}
	}
}

// TestTransportErrorRedacted reaches a port where nothing listens with a
// SAS token: the network error quotes the URL, and its signature must be
// scrubbed from the message.
func TestTransportErrorRedacted(t *testing.T) {
	srv := azurite.Start(t)
	c := srv.NewContainer(t)
	token := srv.ContainerSAS(t, c, time.Hour)
	sig, _ := url.ParseQuery(token)

	proxy := faulttest.New(t, srv.Endpoint)
	proxy.Inject(faulttest.Fault{Times: 100, CutRequestAfter: 1})
	b, err := azure.New(t.Context(), azure.Config{
		SASToken:        token,
		StorageEndpoint: proxy.URL + "/" + azurite.AccountName,
		Container:       c,
		MaxRetries:      1,
		RetryDelay:      time.Millisecond,
	})
	if err != nil {
		t.Fatal(err)
	}
	for op, err := range operations(t, b) {
		if err == nil {
			t.Errorf("%s: got nil, want an error", op)
			continue
		}
		msg := err.Error()
		t.Logf("%s: %s", op, msg)
		for _, s := range []string{sig.Get("sig"), url.QueryEscape(sig.Get("sig"))} {
			if strings.Contains(msg, s) {
				t.Errorf("%s: %q holds the signature", op, msg)
			}
		}
	}
}
