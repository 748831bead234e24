// Package target turns the output a user names into a sink.Bucket. It is
// the one place that knows every provider.
//
// An output is a local folder, or a folder in an Azure storage container
// written in any of three equivalent forms:
//
//	/data/lake                                            a folder on disk
//	abfss://CONTAINER@ACCOUNT.dfs.core.windows.net/PATH   ADLS Gen2
//	https://ACCOUNT.blob.core.windows.net/CONTAINER/PATH  Blob Storage
//	az://CONTAINER/PATH                                   account from the environment
//
// The dfs host of ADLS Gen2 is reached through its blob endpoint; both
// serve the same data. Other national clouds' suffixes
// (core.usgovcloudapi.net, core.chinacloudapi.cn) work the same way.
package target

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"

	"github.com/mdvm-parquet/mdvm-parquet/sink"
	"github.com/mdvm-parquet/mdvm-parquet/sink/azure"
	"github.com/mdvm-parquet/mdvm-parquet/sink/local"
)

// Kind says which sink an output names.
type Kind int

// The kinds of output.
const (
	Local Kind = iota + 1
	Azure
)

// Target is a parsed output.
type Target struct {
	Kind Kind

	// Path is the folder of a Local target, cleaned.
	Path string

	// Account is the storage account of an Azure target; empty for the
	// az:// form, where Open takes it from the environment.
	Account string

	// EndpointSuffix follows "ACCOUNT.blob." ("core.windows.net"); empty
	// when Account is.
	EndpointSuffix string

	// Container and Prefix locate the folder of an Azure target. Prefix
	// is empty or a valid sink name, without leading or trailing slash.
	Container string
	Prefix    string
}

// Options tune Open.
type Options struct {
	// StorageEndpoint overrides the blob service URL, account included
	// ("http://127.0.0.1:10000/devstoreaccount1" for Azurite). It also
	// gives the account for the az:// form.
	StorageEndpoint string

	// BlockSize is the first block size of Azure writers. Defaults to
	// azure.DefaultBlockSize.
	BlockSize int

	// Getenv reads the environment for Azure credentials and account.
	// Defaults to os.Getenv.
	Getenv func(string) string

	// Logger receives the sinks' Debug lines. Defaults to discarding.
	Logger *slog.Logger
}

// Open parses output and opens the bucket it names.
func Open(ctx context.Context, output string, opts Options) (sink.Bucket, error) {
	t, err := Parse(output)
	if err != nil {
		return nil, err
	}
	if t.Kind == Local {
		return local.New(t.Path)
	}

	getenv := opts.Getenv
	if getenv == nil {
		getenv = os.Getenv
	}
	cfg := azure.Config{
		Account:         t.Account,
		EndpointSuffix:  t.EndpointSuffix,
		Container:       t.Container,
		Prefix:          t.Prefix,
		StorageEndpoint: opts.StorageEndpoint,
		BlockSize:       opts.BlockSize,
		Logger:          opts.Logger,
	}
	cfg.LoadEnv(getenv)
	return azure.New(ctx, cfg)
}

// ErrOutput is wrapped by the errors of Parse.
var ErrOutput = errors.New("invalid output")

// schemePattern tells a URL from a path: "C:\lake" is a path.
var schemePattern = regexp.MustCompile(`^[a-zA-Z][a-zA-Z0-9+.-]+://`)

// accountPattern is the rule for storage account names.
var accountPattern = regexp.MustCompile(`^[a-z0-9]{3,24}$`)

// suffixPattern is the rule for endpoint suffixes such as
// "core.windows.net": DNS labels after "core".
var suffixPattern = regexp.MustCompile(`^core(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)+$`)

// Parse reads an output without opening it.
func Parse(output string) (Target, error) {
	if !schemePattern.MatchString(output) {
		path := filepath.Clean(output)
		if strings.TrimSpace(output) == "" || strings.TrimSpace(path) == "" {
			return Target{}, fmt.Errorf("%w: empty", ErrOutput)
		}
		return Target{Kind: Local, Path: path}, nil
	}
	u, err := url.Parse(output)
	if err != nil {
		return Target{}, fmt.Errorf("%w %q: not a URL", ErrOutput, output)
	}
	if u.RawQuery != "" || u.Fragment != "" || strings.Contains(output, "?") {
		return Target{}, fmt.Errorf("%w: the URL must not carry a query; give a SAS in %s", ErrOutput, azure.EnvSASToken)
	}
	t, err := parseURL(u)
	if err != nil {
		return Target{}, fmt.Errorf("%w %s: %s", ErrOutput, redactUser(u), err)
	}
	return t, nil
}

// redactUser shows a URL for an error without any password it holds.
func redactUser(u *url.URL) string {
	return u.Redacted()
}

func parseURL(u *url.URL) (Target, error) {
	var t Target
	var path string
	switch strings.ToLower(u.Scheme) {
	case "file":
		if u.Host != "" && u.Host != "localhost" {
			return t, errors.New("a file URL names a folder on this machine")
		}
		if u.Path == "" {
			return t, errors.New("no folder")
		}
		return Target{Kind: Local, Path: filepath.Clean(filepath.FromSlash(u.Path))}, nil
	case "az":
		if u.User != nil || u.Port() != "" {
			return t, errors.New("want az://CONTAINER/PATH")
		}
		t.Container, path = u.Host, u.Path
	case "abfss", "abfs":
		if u.User == nil || u.Port() != "" {
			return t, errors.New("want abfss://CONTAINER@ACCOUNT.dfs.SUFFIX/PATH")
		}
		if _, hasPass := u.User.Password(); hasPass {
			return t, errors.New("want abfss://CONTAINER@ACCOUNT.dfs.SUFFIX/PATH")
		}
		acct, suffix, err := splitHost(u.Hostname(), "dfs")
		if err != nil {
			return t, err
		}
		t.Account, t.EndpointSuffix = acct, suffix
		t.Container, path = u.User.Username(), u.Path
	case "https":
		if u.User != nil || u.Port() != "" {
			return t, errors.New("want https://ACCOUNT.blob.SUFFIX/CONTAINER/PATH")
		}
		acct, suffix, err := splitHost(u.Hostname(), "blob", "dfs")
		if err != nil {
			return t, err
		}
		t.Account, t.EndpointSuffix = acct, suffix
		t.Container, path, _ = strings.Cut(strings.TrimPrefix(u.Path, "/"), "/")
	default:
		return t, fmt.Errorf("unknown scheme %q: want a folder, abfss://, az:// or https://", u.Scheme)
	}

	t.Kind = Azure
	if err := azure.CheckContainer(t.Container); err != nil || strings.HasPrefix(t.Container, "$") {
		return t, fmt.Errorf("container %q: want 3 to 63 lowercase letters, digits and dashes", t.Container)
	}
	t.Prefix = strings.Trim(path, "/")
	if t.Prefix != "" {
		if err := sink.CheckName(t.Prefix); err != nil {
			return t, fmt.Errorf("path: %w", err)
		}
	}
	return t, nil
}

// splitHost splits "ACCOUNT.SERVICE.SUFFIX" for one of the services given.
func splitHost(host string, services ...string) (account, suffix string, err error) {
	host = strings.ToLower(strings.TrimSuffix(host, "."))
	acct, rest, _ := strings.Cut(host, ".")
	service, suffix, _ := strings.Cut(rest, ".")
	known := false
	for _, s := range services {
		known = known || service == s
	}
	if !known || !suffixPattern.MatchString(suffix) {
		return "", "", fmt.Errorf("host %q: want ACCOUNT.%s.core.windows.net or another cloud's suffix", host, services[0])
	}
	if !accountPattern.MatchString(acct) {
		return "", "", fmt.Errorf("account %q: want 3 to 24 lowercase letters and digits", acct)
	}
	return acct, suffix, nil
}

// String returns the canonical form of t: the folder for Local; for Azure
// the https form when the account is known, else the az:// form. Parse
// reads it back to t.
func (t Target) String() string {
	switch t.Kind {
	case Local:
		return t.Path
	case Azure:
		p := (&url.URL{Path: "/" + t.Container + "/" + t.Prefix}).EscapedPath()
		p = strings.TrimSuffix(p, "/")
		if t.Account == "" {
			return "az:/" + p
		}
		return "https://" + t.Account + ".blob." + t.EndpointSuffix + p
	}
	return ""
}
