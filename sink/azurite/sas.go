package azurite

import (
	"net/url"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/sas"
)

// SASURL returns a read-only URL for the blob name in container, signed
// with the account key and valid for ttl from now. A negative ttl gives a
// link that has already expired, which the server refuses with 403.
func (s *Server) SASURL(t testing.TB, container, name string, ttl time.Duration) string {
	t.Helper()
	now := time.Now().UTC()
	start := now.Add(-5 * time.Minute) // allow for clock skew
	if ttl < 0 {
		start = now.Add(2 * ttl)
	}
	q, err := sas.BlobSignatureValues{
		Protocol:      sas.ProtocolHTTPSandHTTP,
		StartTime:     start,
		ExpiryTime:    now.Add(ttl),
		Permissions:   (&sas.BlobPermissions{Read: true}).String(),
		ContainerName: container,
		BlobName:      name,
	}.SignWithSharedKey(s.cred)
	if err != nil {
		t.Fatalf("azurite: sign %s/%s: %v", container, name, err)
	}
	return s.Endpoint + "/" + url.PathEscape(container) + "/" + escapeBlob(name) + "?" + q.Encode()
}

// ContainerSAS returns a SAS token (the query, without "?") granting read,
// write, delete and list on container for ttl, signed with the account key.
func (s *Server) ContainerSAS(t testing.TB, container string, ttl time.Duration) string {
	t.Helper()
	now := time.Now().UTC()
	perms := sas.ContainerPermissions{Read: true, Add: true, Create: true, Write: true, Delete: true, List: true}
	q, err := sas.BlobSignatureValues{
		Protocol:      sas.ProtocolHTTPSandHTTP,
		StartTime:     now.Add(-5 * time.Minute),
		ExpiryTime:    now.Add(ttl),
		Permissions:   perms.String(),
		ContainerName: container,
	}.SignWithSharedKey(s.cred)
	if err != nil {
		t.Fatalf("azurite: sign %s: %v", container, err)
	}
	return q.Encode()
}

// escapeBlob escapes each segment of a blob name, keeping its slashes.
func escapeBlob(name string) string {
	u := url.URL{Path: name}
	return u.EscapedPath()
}
