package defender

import (
	"fmt"
	"net/url"
	"os"
	"strings"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/Azure/azure-sdk-for-go/sdk/azidentity"
)

// Credential kinds accepted by Credential.
const (
	CredentialDefault  = "default"  // environment, workload identity, managed identity, Azure CLI, in turn
	CredentialEnv      = "env"      // AZURE_TENANT_ID, AZURE_CLIENT_ID and a secret or certificate
	CredentialWorkload = "workload" // AZURE_FEDERATED_TOKEN_FILE, as set by the workload identity webhook
	CredentialManaged  = "managed"  // the host's managed identity; AZURE_CLIENT_ID picks a user-assigned one
	CredentialCLI      = "cli"      // the account signed in with `az login`
)

// microsoftAuthorities are the sign-in hosts of Microsoft's clouds. The
// identity library checks any other host against login.microsoftonline.com
// ("instance discovery") unless told not to.
var microsoftAuthorities = map[string]bool{
	"login.microsoftonline.com":        true,
	"login.microsoft.com":              true,
	"login.windows.net":                true,
	"sts.windows.net":                  true,
	"login.microsoftonline.us":         true,
	"login.usgovcloudapi.net":          true,
	"login.chinacloudapi.cn":           true,
	"login.partner.microsoftonline.cn": true,
	"login.microsoftonline.de":         true,
}

// CredentialOption adjusts Credential.
type CredentialOption func(*credentialOptions)

type credentialOptions struct {
	transport policy.Transporter
}

// WithTransport sends the credential's token requests through t, such as
// an *http.Client. Defaults to the identity library's client, which
// honours the proxy environment variables.
func WithTransport(t policy.Transporter) CredentialOption {
	return func(o *credentialOptions) { o.transport = t }
}

// Credential returns the token credential of the given kind: "" or
// "default", "env", "workload", "managed" or "cli" (see the Credential*
// constants). Every secret comes from the environment (AZURE_CLIENT_SECRET,
// AZURE_CLIENT_CERTIFICATE_PATH and its password, the federated token file)
// or from the host, never from an argument.
//
// AZURE_AUTHORITY_HOST chooses the sign-in host, as the identity library
// reads it; when it names a host that is not one of Microsoft's clouds'
// (a private cloud, or a test server), instance discovery is turned off so
// that no request goes to login.microsoftonline.com.
func Credential(kind string, opts ...CredentialOption) (azcore.TokenCredential, error) {
	var o credentialOptions
	for _, opt := range opts {
		opt(&o)
	}
	client := azcore.ClientOptions{Transport: o.transport}
	noDiscovery, err := customAuthority()
	if err != nil {
		return nil, err
	}

	var cred azcore.TokenCredential
	switch strings.ToLower(kind) {
	case "", CredentialDefault:
		cred, err = azidentity.NewDefaultAzureCredential(&azidentity.DefaultAzureCredentialOptions{
			ClientOptions: client, DisableInstanceDiscovery: noDiscovery})
	case CredentialEnv:
		cred, err = azidentity.NewEnvironmentCredential(&azidentity.EnvironmentCredentialOptions{
			ClientOptions: client, DisableInstanceDiscovery: noDiscovery})
	case CredentialWorkload:
		cred, err = azidentity.NewWorkloadIdentityCredential(&azidentity.WorkloadIdentityCredentialOptions{
			ClientOptions: client, DisableInstanceDiscovery: noDiscovery})
	case CredentialManaged:
		mo := &azidentity.ManagedIdentityCredentialOptions{ClientOptions: client}
		if id := os.Getenv("AZURE_CLIENT_ID"); id != "" {
			mo.ID = azidentity.ClientID(id)
		}
		cred, err = azidentity.NewManagedIdentityCredential(mo)
	case CredentialCLI:
		cred, err = azidentity.NewAzureCLICredential(&azidentity.AzureCLICredentialOptions{
			TenantID: os.Getenv("AZURE_TENANT_ID")})
	default:
		return nil, fmt.Errorf("credential kind %q: want one of default, env, workload, managed, cli", kind)
	}
	if err != nil {
		return nil, fmt.Errorf("credential %s: %w", kind, RedactError(err))
	}
	return cred, nil
}

// customAuthority reports whether AZURE_AUTHORITY_HOST names a sign-in host
// outside Microsoft's clouds.
func customAuthority() (bool, error) {
	v := os.Getenv("AZURE_AUTHORITY_HOST")
	if v == "" {
		return false, nil
	}
	u, err := url.Parse(v)
	if err != nil || u.Host == "" {
		return false, fmt.Errorf("AZURE_AUTHORITY_HOST %q: want https://host", v)
	}
	return !microsoftAuthorities[strings.ToLower(u.Hostname())], nil
}
