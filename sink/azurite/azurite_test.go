package azurite_test

import (
	"bytes"
	"io"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/mdvm-parquet/mdvm-parquet/sink/azurite"
)

func TestMain(m *testing.M) { os.Exit(azurite.Run(m)) }

func TestSASURL(t *testing.T) {
	srv := azurite.Start(t)
	c := srv.NewContainer(t)
	name := "2024-01-02/0600/Export/json/OrgId=x/_RbacGroupId=0/part-00000.json.gz"
	data := []byte("\x1f\x8bnot really gzip")
	srv.Upload(t, c, name, data)

	tests := []struct {
		name string
		ttl  time.Duration
		code int
	}{
		{"valid", time.Hour, http.StatusOK},
		{"expired", -time.Hour, http.StatusForbidden},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			u := srv.SASURL(t, c, name, tc.ttl)
			if !strings.HasPrefix(u, "http://127.0.0.1:") || !strings.Contains(u, "sig=") {
				t.Fatalf("sas url %q: want a loopback URL with a signature", u)
			}
			resp, err := http.Get(u)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			body, _ := io.ReadAll(resp.Body)
			if resp.StatusCode != tc.code {
				t.Fatalf("get: status %d, want %d: %s", resp.StatusCode, tc.code, body)
			}
			if tc.code == http.StatusOK && !bytes.Equal(body, data) {
				t.Fatalf("get: got %q, want %q", body, data)
			}
		})
	}
	if got := srv.Download(t, c, name); !bytes.Equal(got, data) {
		t.Fatalf("download: got %q", got)
	}
}

func TestNewContainerNames(t *testing.T) {
	srv := azurite.Start(t)
	a, b := srv.NewContainer(t), srv.NewContainer(t)
	if a == b || len(a) > 63 || len(a) < 3 {
		t.Fatalf("containers %q and %q: want two distinct valid names", a, b)
	}
}
