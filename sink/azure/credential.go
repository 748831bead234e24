package azure

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/cloud"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/Azure/azure-sdk-for-go/sdk/azidentity"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/container"
)

// The kinds of credential, as error messages name them.
const (
	kindConnString = "connection string"
	kindSAS        = "SAS token"
	kindDefault    = "Entra ID default credential chain"
)

// microsoftHosts are the Entra ID authority hosts of Microsoft's clouds.
// Any other host is a private cloud (Azure Stack) or a test double, where
// instance discovery against Microsoft would fail.
var microsoftHosts = map[string]bool{
	"login.microsoftonline.com":        true,
	"login.microsoft.com":              true,
	"login.windows.net":                true,
	"login.microsoftonline.us":         true,
	"login.chinacloudapi.cn":           true,
	"login.partner.microsoftonline.cn": true,
}

// isMicrosoftHost reports whether the authority URL or host is one of
// Microsoft's clouds. An empty authority means the public cloud.
func isMicrosoftHost(authority string) bool {
	if authority == "" {
		return true
	}
	host := authority
	if u, err := url.Parse(authority); err == nil && u.Host != "" {
		host = u.Hostname()
	}
	return microsoftHosts[strings.ToLower(strings.TrimSuffix(host, "."))]
}

// clientOptions sets the retry policy shared by every credential kind.
func clientOptions(cfg Config) container.ClientOptions {
	var o container.ClientOptions
	o.Retry = policy.RetryOptions{
		MaxRetries:    int32(cfg.MaxRetries),
		TryTimeout:    cfg.TryTimeout,
		RetryDelay:    cfg.RetryDelay,
		MaxRetryDelay: cfg.MaxRetryDelay,
		StatusCodes: []int{
			http.StatusRequestTimeout,
			http.StatusTooManyRequests,
			http.StatusInternalServerError,
			http.StatusBadGateway,
			http.StatusServiceUnavailable,
			http.StatusGatewayTimeout,
		},
	}
	o.Telemetry.ApplicationID = "mdvm-parquet"
	return o
}

// newContainerClient picks the credential, in the order the package doc
// gives, and returns a client for the container with the kind it used.
func newContainerClient(cfg Config) (*container.Client, string, error) {
	opts := clientOptions(cfg)
	switch {
	case cfg.ConnectionString != "":
		c, err := connStringClient(cfg, &opts)
		return c, kindConnString, err
	case cfg.SASToken != "":
		c, err := sasClient(cfg, &opts)
		return c, kindSAS, err
	default:
		c, err := defaultCredClient(cfg, &opts)
		return c, kindDefault, err
	}
}

// endpoint returns the blob service URL: the override, else the one the
// connection string names, else the account's public one.
func endpoint(cfg Config, fromConnString string) (string, error) {
	switch {
	case cfg.StorageEndpoint != "":
		return cfg.StorageEndpoint, nil
	case fromConnString != "":
		return fromConnString, nil
	case cfg.Account != "":
		return fmt.Sprintf("https://%s.blob.%s", cfg.Account, cfg.EndpointSuffix), nil
	}
	return "", fmt.Errorf("no storage account: set %s, or give a connection string or endpoint", EnvAccount)
}

// containerURL joins the service URL and the container.
func containerURL(service, name string) string {
	return strings.TrimSuffix(service, "/") + "/" + url.PathEscape(name)
}

func connStringClient(cfg Config, opts *container.ClientOptions) (*container.Client, error) {
	cs, err := parseConnectionString(cfg.ConnectionString)
	if err != nil {
		return nil, err
	}
	if cfg.Account != "" && cs.account != "" && !strings.EqualFold(cfg.Account, cs.account) {
		return nil, fmt.Errorf("connection string is for account %s, not %s", cs.account, cfg.Account)
	}
	svc, err := endpoint(cfg, cs.endpoint)
	if err != nil {
		return nil, err
	}
	u := containerURL(svc, cfg.Container)
	if cs.key == "" {
		return container.NewClientWithNoCredential(u+"?"+cs.sas, opts)
	}
	cred, err := container.NewSharedKeyCredential(cs.account, cs.key)
	if err != nil {
		return nil, errors.New("connection string: AccountKey is not valid base64")
	}
	return container.NewClientWithSharedKeyCredential(u, cred, opts)
}

func sasClient(cfg Config, opts *container.ClientOptions) (*container.Client, error) {
	token := strings.TrimPrefix(cfg.SASToken, "?")
	q, err := url.ParseQuery(token)
	if err != nil || q.Get("sig") == "" {
		return nil, errors.New("SAS token: not a query string with a signature (sig=)")
	}
	svc, err := endpoint(cfg, "")
	if err != nil {
		return nil, err
	}
	return container.NewClientWithNoCredential(containerURL(svc, cfg.Container)+"?"+token, opts)
}

func defaultCredClient(cfg Config, opts *container.ClientOptions) (*container.Client, error) {
	var copts azidentity.DefaultAzureCredentialOptions
	if cfg.AuthorityHost != "" {
		copts.Cloud = cloud.Configuration{ActiveDirectoryAuthorityHost: cfg.AuthorityHost}
		copts.DisableInstanceDiscovery = !isMicrosoftHost(cfg.AuthorityHost)
	}
	cred, err := azidentity.NewDefaultAzureCredential(&copts)
	if err != nil {
		return nil, fmt.Errorf("%s: %s", kindDefault, redact(err.Error()))
	}
	svc, err := endpoint(cfg, "")
	if err != nil {
		return nil, err
	}
	return container.NewClient(containerURL(svc, cfg.Container), markedCredential{cred}, opts)
}

// markedCredential marks the errors of its credential, so that wrap can
// tell "no token" from other failures.
type markedCredential struct{ azcore.TokenCredential }

func (c markedCredential) GetToken(ctx context.Context, o policy.TokenRequestOptions) (azcore.AccessToken, error) {
	tok, err := c.TokenCredential.GetToken(ctx, o)
	if err != nil && ctx.Err() == nil {
		err = &credError{err}
	}
	return tok, err
}
