package azure

import (
	"cmp"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"strings"
	"time"
)

// Environment variables read by LoadEnv and New.
const (
	EnvConnectionString = "AZURE_STORAGE_CONNECTION_STRING"
	EnvSASToken         = "AZURE_STORAGE_SAS_TOKEN"
	EnvAccount          = "AZURE_STORAGE_ACCOUNT"
	EnvAuthorityHost    = "AZURE_AUTHORITY_HOST"
)

// Block sizes. A writer starts with Config.BlockSize and doubles it every
// growEvery blocks, up to MaxBlockSize, so an object of many GiB stays far
// below the service's limit of 50,000 blocks.
const (
	DefaultBlockSize = 4 << 20
	MinBlockSize     = 64 << 10
	MaxBlockSize     = 100 << 20
	maxBlocks        = 50_000
	growEvery        = 1_000
)

// Config says where a bucket is and how to reach it.
type Config struct {
	// Account is the storage account name. With EndpointSuffix it gives
	// the endpoint when neither StorageEndpoint nor the connection string
	// names one.
	Account string

	// EndpointSuffix follows "ACCOUNT.blob." in the endpoint. Defaults to
	// "core.windows.net".
	EndpointSuffix string

	// Container holds the objects. Required.
	Container string

	// Prefix is the folder in the container below which names live
	// ("lake/mdvm"). Empty means the container's root.
	Prefix string

	// StorageEndpoint overrides the blob service URL, account included:
	// "http://127.0.0.1:10000/devstoreaccount1" for Azurite.
	StorageEndpoint string

	// ConnectionString is the first credential tried: one with AccountKey
	// or SharedAccessSignature, or "UseDevelopmentStorage=true". It may
	// name the endpoint too.
	ConnectionString string

	// SASToken is the second credential tried: a SAS query string for the
	// account or container, with or without its leading "?".
	SASToken string

	// AuthorityHost is the Entra ID host for the default credential chain,
	// tried when there is neither connection string nor SAS token.
	// Defaults to AZURE_AUTHORITY_HOST, else the public cloud.
	AuthorityHost string

	// BlockSize is the size of a writer's first blocks. A writer holds at
	// most two blocks in memory. Defaults to DefaultBlockSize; clamped to
	// MinBlockSize..MaxBlockSize.
	BlockSize int

	// MaxRetries is how often a failed request (HTTP 408, 429, 500, 502,
	// 503, 504, a cut connection, a timeout) is retried. Defaults to 6.
	MaxRetries int

	// RetryDelay is the first pause before a retry; it doubles with each
	// retry up to MaxRetryDelay, unless the service says how long to wait.
	// Defaults to 1s and 30s.
	RetryDelay, MaxRetryDelay time.Duration

	// TryTimeout bounds one try of a request, so a stalled connection is
	// retried. Defaults to 5 minutes, enough for a large block on a slow
	// link.
	TryTimeout time.Duration

	// Logger receives a Debug line per object written or moved. Defaults
	// to discarding.
	Logger *slog.Logger
}

// LoadEnv fills the credential and account fields of c that are empty from
// the environment, read through getenv (os.Getenv in a program).
func (c *Config) LoadEnv(getenv func(string) string) {
	fill := func(field *string, key string) {
		if *field == "" {
			*field = strings.TrimSpace(getenv(key))
		}
	}
	fill(&c.ConnectionString, EnvConnectionString)
	fill(&c.SASToken, EnvSASToken)
	fill(&c.Account, EnvAccount)
	fill(&c.AuthorityHost, EnvAuthorityHost)
}

// withDefaults returns c with defaults applied and its prefix cleaned.
func (c Config) withDefaults() Config {
	if c.EndpointSuffix == "" {
		c.EndpointSuffix = "core.windows.net"
	}
	if c.BlockSize == 0 {
		c.BlockSize = DefaultBlockSize
	}
	c.BlockSize = min(max(c.BlockSize, MinBlockSize), MaxBlockSize)
	if c.MaxRetries == 0 {
		c.MaxRetries = 6
	}
	if c.RetryDelay == 0 {
		c.RetryDelay = time.Second
	}
	if c.MaxRetryDelay == 0 {
		c.MaxRetryDelay = 30 * time.Second
	}
	if c.TryTimeout == 0 {
		c.TryTimeout = 5 * time.Minute
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	c.Prefix = strings.Trim(c.Prefix, "/")
	c.StorageEndpoint = strings.TrimSuffix(c.StorageEndpoint, "/")
	return c
}

// connString is what a storage connection string says.
type connString struct {
	endpoint string // blob service URL without trailing slash
	account  string
	key      string
	sas      string
}

// devEndpoint and devKey are what "UseDevelopmentStorage=true" stands for:
// the local emulator's well-known account.
const (
	devAccount  = "devstoreaccount1"
	devEndpoint = "http://127.0.0.1:10000/devstoreaccount1"
	devKey      = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="
)

// parseConnectionString reads a connection string. Its errors never quote
// the string, which holds a secret.
func parseConnectionString(s string) (connString, error) {
	fields := map[string]string{}
	for part := range strings.SplitSeq(strings.TrimSpace(s), ";") {
		if part = strings.TrimSpace(part); part == "" {
			continue
		}
		k, v, ok := strings.Cut(part, "=")
		if !ok {
			return connString{}, errors.New("connection string: a part is not KEY=VALUE")
		}
		fields[strings.ToLower(k)] = v
	}
	if strings.EqualFold(fields["usedevelopmentstorage"], "true") {
		return connString{endpoint: devEndpoint, account: devAccount, key: devKey}, nil
	}

	cs := connString{
		endpoint: strings.TrimSuffix(fields["blobendpoint"], "/"),
		account:  fields["accountname"],
		key:      fields["accountkey"],
		sas:      strings.TrimPrefix(fields["sharedaccesssignature"], "?"),
	}
	if cs.endpoint == "" && cs.account != "" {
		proto := cmp.Or(fields["defaultendpointsprotocol"], "https")
		suffix := cmp.Or(fields["endpointsuffix"], "core.windows.net")
		cs.endpoint = fmt.Sprintf("%s://%s.blob.%s", proto, cs.account, suffix)
	}
	switch {
	case cs.endpoint == "":
		return connString{}, errors.New("connection string: no AccountName or BlobEndpoint")
	case cs.key == "" && cs.sas == "":
		return connString{}, errors.New("connection string: no AccountKey or SharedAccessSignature")
	case cs.key != "" && cs.account == "":
		return connString{}, errors.New("connection string: AccountKey without AccountName")
	}
	if _, err := url.Parse(cs.endpoint); err != nil {
		return connString{}, errors.New("connection string: BlobEndpoint is not a URL")
	}
	return cs, nil
}

// AccountFromConnectionString returns the account a connection string
// names, or "" when it names none or cannot be read.
func AccountFromConnectionString(s string) string {
	cs, err := parseConnectionString(s)
	if err != nil {
		return ""
	}
	return cs.account
}
