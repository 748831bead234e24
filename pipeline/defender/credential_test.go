package defender

import (
	"context"
	"log/slog"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"

	"github.com/mdvm-parquet/mdvm-parquet/pipeline/defender/defendertest"
)

func TestCustomAuthority(t *testing.T) {
	tests := []struct {
		host   string
		custom bool
	}{
		{"", false},
		{"https://login.microsoftonline.com/", false},
		{"https://login.microsoftonline.us", false},
		{"https://login.chinacloudapi.cn/", false},
		{"https://LOGIN.MICROSOFTONLINE.COM/", false},
		{"https://127.0.0.1:8443/", true},
		{"https://login.contoso.example/", true},
	}
	for _, tt := range tests {
		t.Setenv("AZURE_AUTHORITY_HOST", tt.host)
		got, err := customAuthority()
		if err != nil || got != tt.custom {
			t.Errorf("customAuthority(%q) = %v, %v; want %v", tt.host, got, err, tt.custom)
		}
	}
}

// TestCredentialFromEnvironment signs in with the env and default kinds
// against the fake's token endpoint, named by AZURE_AUTHORITY_HOST alone.
// The fake's client dials loopback only, so any call to Microsoft's
// instance discovery would fail the test.
func TestCredentialFromEnvironment(t *testing.T) {
	for _, kind := range []string{"env", "default", ""} {
		t.Run("kind="+kind, func(t *testing.T) {
			srv := defendertest.New(t, defendertest.Options{})
			t.Setenv("AZURE_AUTHORITY_HOST", srv.AuthorityHost())
			t.Setenv("AZURE_TENANT_ID", srv.Tenant)
			t.Setenv("AZURE_CLIENT_ID", srv.ClientID)
			t.Setenv("AZURE_CLIENT_SECRET", srv.ClientSecret)

			cred, err := Credential(kind, WithTransport(srv.HTTPClient()))
			if err != nil {
				t.Fatal(err)
			}
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			tok, err := cred.GetToken(ctx, policy.TokenRequestOptions{Scopes: []string{DefaultScope}})
			if err != nil {
				t.Fatal(err)
			}
			if tok.Token == "" || time.Until(tok.ExpiresOn) < 30*time.Minute {
				t.Errorf("token %d bytes, expires %s", len(tok.Token), tok.ExpiresOn)
			}
			if n := srv.Calls("/common/discovery/instance"); n != 0 {
				t.Errorf("instance discovery called %d times", n)
			}
			if n := srv.Calls("/" + srv.Tenant + "/oauth2/v2.0/token"); n != 1 {
				t.Errorf("token endpoint called %d times, want 1", n)
			}
		})
	}
}

func TestCredentialWrongSecret(t *testing.T) {
	srv := defendertest.New(t, defendertest.Options{})
	t.Setenv("AZURE_AUTHORITY_HOST", srv.AuthorityHost())
	t.Setenv("AZURE_TENANT_ID", srv.Tenant)
	t.Setenv("AZURE_CLIENT_ID", srv.ClientID)
	t.Setenv("AZURE_CLIENT_SECRET", "not-the-secret")
	cred, err := Credential("env", WithTransport(srv.HTTPClient()))
	if err != nil {
		t.Fatal(err)
	}
	c, err := New(Config{APIURL: srv.URL, Credential: cred, HTTPClient: srv.HTTPClient(), Retry: fastRetry,
		Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.ExportFiles(context.Background(), hwExport, 0)
	if err == nil {
		t.Fatal("signed in with a wrong secret")
	}
	if n := srv.Calls(hwExport); n != 0 {
		t.Errorf("API called %d times without a token", n)
	}
}

func TestCredentialUnknownKind(t *testing.T) {
	if _, err := Credential("password"); err == nil {
		t.Error("unknown kind accepted")
	}
}
