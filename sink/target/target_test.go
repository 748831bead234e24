package target_test

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/mdvm-parquet/mdvm-parquet/sink"
	"github.com/mdvm-parquet/mdvm-parquet/sink/azurite"
	"github.com/mdvm-parquet/mdvm-parquet/sink/target"
)

func TestMain(m *testing.M) { os.Exit(azurite.Run(m)) }

func TestParse(t *testing.T) {
	lake := target.Target{Kind: target.Azure, Account: "acct", EndpointSuffix: "core.windows.net", Container: "lake", Prefix: "mdvm/v1"}
	tests := []struct {
		name   string
		output string
		want   target.Target
	}{
		{"local absolute", "/data/lake/", target.Target{Kind: target.Local, Path: "/data/lake"}},
		{"local relative", "./out/../lake", target.Target{Kind: target.Local, Path: "lake"}},
		{"local with colon", "c:lake", target.Target{Kind: target.Local, Path: "c:lake"}},
		{"file URL", "file:///data/lake", target.Target{Kind: target.Local, Path: "/data/lake"}},
		{"abfss", "abfss://lake@acct.dfs.core.windows.net/mdvm/v1", lake},
		{"abfs", "abfs://lake@acct.dfs.core.windows.net/mdvm/v1/", lake},
		{"https blob", "https://acct.blob.core.windows.net/lake/mdvm/v1", lake},
		{"https dfs", "https://acct.dfs.core.windows.net/lake/mdvm/v1", lake},
		{"host case", "https://ACCT.Blob.Core.Windows.Net/lake/mdvm/v1", lake},
		{"az", "az://lake/mdvm/v1", target.Target{Kind: target.Azure, Container: "lake", Prefix: "mdvm/v1"}},
		{"az root", "az://lake", target.Target{Kind: target.Azure, Container: "lake"}},
		{"az root slash", "az://lake/", target.Target{Kind: target.Azure, Container: "lake"}},
		{"https container only", "https://acct.blob.core.windows.net/lake", target.Target{Kind: target.Azure, Account: "acct", EndpointSuffix: "core.windows.net", Container: "lake"}},
		{"us gov", "abfss://lake@gov1.dfs.core.usgovcloudapi.net/x", target.Target{Kind: target.Azure, Account: "gov1", EndpointSuffix: "core.usgovcloudapi.net", Container: "lake", Prefix: "x"}},
		{"escaped path", "https://acct.blob.core.windows.net/lake/a%20b/c", target.Target{Kind: target.Azure, Account: "acct", EndpointSuffix: "core.windows.net", Container: "lake", Prefix: "a b/c"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := target.Parse(tc.output)
			if err != nil {
				t.Fatalf("parse %q: %v", tc.output, err)
			}
			if got != tc.want {
				t.Fatalf("parse %q:\n got %+v\nwant %+v", tc.output, got, tc.want)
			}
		})
	}
}

func TestParseRefuses(t *testing.T) {
	tests := []struct {
		name, output, phrase string
	}{
		{"empty", "", "empty"},
		{"blank", "  ", "empty"},
		{"sas in URL", "https://acct.blob.core.windows.net/lake/x?sv=1&sig=s3cr3t", "AZURE_STORAGE_SAS_TOKEN"},
		{"dot dot", "az://lake/a/../../b", "segment"},
		{"encoded dot dot", "https://acct.blob.core.windows.net/lake/a%2F..%2F..%2Fb", "segment"},
		{"double slash", "az://lake/a//b", "empty segment"},
		{"no container", "az://", "container"},
		{"bad container", "az://Lake_1/x", "container"},
		{"abfss without container", "abfss://acct.dfs.core.windows.net/x", "CONTAINER@ACCOUNT"},
		{"abfss blob host", "abfss://lake@acct.blob.core.windows.net/x", "dfs"},
		{"foreign host", "https://example.com/lake/x", "host"},
		{"bad account", "https://a.blob.core.windows.net/lake", "account"},
		{"port", "https://acct.blob.core.windows.net:8443/lake", "want https://"},
		{"password", "abfss://lake:pw@acct.dfs.core.windows.net/x", "want abfss://"},
		{"s3", "s3://bucket/x", "unknown scheme"},
		{"remote file", "file://host/x", "this machine"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := target.Parse(tc.output)
			if err == nil {
				t.Fatalf("parse %q: got %+v, want an error", tc.output, got)
			}
			if !errors.Is(err, target.ErrOutput) || !strings.Contains(err.Error(), tc.phrase) {
				t.Fatalf("parse %q: got %q, want ErrOutput about %q", tc.output, err, tc.phrase)
			}
			if strings.Contains(err.Error(), "s3cr3t") || strings.Contains(err.Error(), ":pw@") {
				t.Fatalf("parse %q: %q holds a secret", tc.output, err)
			}
		})
	}
}

func TestCanonicalForms(t *testing.T) {
	same := []string{
		"abfss://lake@acct.dfs.core.windows.net/mdvm",
		"https://acct.blob.core.windows.net/lake/mdvm/",
		"https://acct.dfs.core.windows.net/lake/mdvm",
	}
	for _, s := range same {
		got, err := target.Parse(s)
		if err != nil {
			t.Fatal(err)
		}
		if c := got.String(); c != "https://acct.blob.core.windows.net/lake/mdvm" {
			t.Errorf("%s: canonical %q", s, c)
		}
	}
	az, _ := target.Parse("az://lake/a b")
	if c := az.String(); c != "az://lake/a%20b" {
		t.Errorf("az canonical: %q", c)
	}
}

func FuzzParse(f *testing.F) {
	for _, s := range []string{
		"/data/lake", "az://lake/x", "abfss://lake@acct.dfs.core.windows.net/a/b",
		"https://acct.blob.core.windows.net/lake/a%2Fb", "az://lake/a/../b", "file:///x",
		"https://acct.blob.core.windows.net/lake/%zz", "az://lake/%2e%2e/x",
		"https://000.BloB.Core.../000", "./ ", // once accepted without round trip
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, output string) {
		got, err := target.Parse(output)
		if err != nil {
			return
		}
		canon := got.String()
		again, err := target.Parse(canon)
		if err != nil {
			t.Fatalf("parse %q: canonical %q refused: %v", output, canon, err)
		}
		if again != got {
			t.Fatalf("parse %q: %+v, canonical %q reads back as %+v", output, got, canon, again)
		}
		if again.String() != canon {
			t.Fatalf("canonical form of %q is not stable: %q then %q", output, canon, again.String())
		}
		if got.Kind == target.Azure && got.Prefix != "" && sink.CheckName(got.Prefix) != nil {
			t.Fatalf("parse %q: prefix %q escapes the container", output, got.Prefix)
		}
	})
}

func TestOpenLocal(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "lake")
	b, err := target.Open(t.Context(), dir, target.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	if err := sink.Put(t.Context(), b, "x", []byte("x")); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, "x")); err != nil {
		t.Fatal(err)
	}
}

// TestOpenAzureForms writes through each Azure form of the same place and
// reads all objects back through another.
func TestOpenAzureForms(t *testing.T) {
	srv := azurite.Start(t)
	c := srv.NewContainer(t)
	env := map[string]string{"AZURE_STORAGE_CONNECTION_STRING": srv.ConnectionString()}
	opts := target.Options{StorageEndpoint: srv.Endpoint, Getenv: func(k string) string { return env[k] }}

	outputs := []string{
		"abfss://" + c + "@" + azurite.AccountName + ".dfs.core.windows.net/lake/mdvm",
		"https://" + azurite.AccountName + ".blob.core.windows.net/" + c + "/lake/mdvm",
		"az://" + c + "/lake/mdvm/",
	}
	for i, out := range outputs {
		b, err := target.Open(t.Context(), out, opts)
		if err != nil {
			t.Fatalf("open %s: %v", out, err)
		}
		if err := sink.Put(t.Context(), b, "part-"+string(rune('0'+i)), []byte(out)); err != nil {
			t.Fatalf("put through %s: %v", out, err)
		}
		b.Close()
	}

	b, err := target.Open(t.Context(), outputs[2], opts)
	if err != nil {
		t.Fatal(err)
	}
	for i, out := range outputs {
		got, err := sink.Get(t.Context(), b, "part-"+string(rune('0'+i)))
		if err != nil || string(got) != out {
			t.Fatalf("get part-%d: %q, %v; want %q", i, got, err, out)
		}
	}
	if loc := b.Location("part-0"); loc != "az://"+c+"/lake/mdvm/part-0" {
		t.Fatalf("location: %q", loc)
	}
	if blob := srv.Download(t, c, "lake/mdvm/part-0"); string(blob) != outputs[0] {
		t.Fatalf("blob lake/mdvm/part-0 holds %q", blob)
	}
}

// TestOpenAzureAccountFromEnv uses the az:// form with the account and a
// SAS token from the environment.
func TestOpenAzureAccountFromEnv(t *testing.T) {
	srv := azurite.Start(t)
	c := srv.NewContainer(t)
	env := map[string]string{
		"AZURE_STORAGE_ACCOUNT":   azurite.AccountName,
		"AZURE_STORAGE_SAS_TOKEN": "?" + srv.ContainerSAS(t, c, time.Hour),
	}
	opts := target.Options{StorageEndpoint: srv.Endpoint, Getenv: func(k string) string { return env[k] }}
	b, err := target.Open(t.Context(), "az://"+c, opts)
	if err != nil {
		t.Fatal(err)
	}
	if err := sink.Put(t.Context(), b, "x", []byte("x")); err != nil {
		t.Fatal(err)
	}
	if got := srv.Download(t, c, "x"); string(got) != "x" {
		t.Fatalf("blob x holds %q", got)
	}
}

func TestOpenAzureNoAccount(t *testing.T) {
	_, err := target.Open(t.Context(), "az://lake/x", target.Options{Getenv: func(string) string { return "" }})
	if err == nil || !strings.Contains(err.Error(), "AZURE_STORAGE_ACCOUNT") {
		t.Fatalf("open without account: got %v, want an error naming AZURE_STORAGE_ACCOUNT", err)
	}
}
