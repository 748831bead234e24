package defendertest

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
)

// call sends GET path with a fresh token (or none) and decodes the body.
func call(t *testing.T, s *Server, path string, auth bool) (*http.Response, map[string]any) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, s.URL+path, nil)
	if auth {
		tok, err := s.Credential().GetToken(context.Background(),
			policy.TokenRequestOptions{Scopes: []string{"https://api.securitycenter.microsoft.com/.default"}})
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Authorization", "Bearer "+tok.Token)
	}
	resp, err := s.HTTPClient().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var body map[string]any
	if err := json.NewDecoder(resp.Body).Decode(&body); err != nil {
		t.Fatalf("GET %s: body is not JSON: %v", path, err)
	}
	return resp, body
}

func errorCode(body map[string]any) string {
	e, _ := body["error"].(map[string]any)
	if e == nil || e["target"] == "" || e["message"] == "" {
		return "malformed error body"
	}
	return e["code"].(string)
}

func TestErrorAnswers(t *testing.T) {
	s := New(t, Options{})
	tests := []struct {
		name   string
		path   string
		auth   bool
		status int
		code   string
	}{
		{"no token", "/api/machines/HardwareFirmwareInventoryExport", false, 401, "Unauthorized"},
		{"unknown path", "/api/machines/NoSuchExport", true, 404, "ResourceNotFound"},
		{"page size too big", "/api/machines/HardwareFirmwareInventoryByMachine?pageSize=200001", true, 400, "InvalidRequestBody"},
		{"page size zero", "/api/machines/HardwareFirmwareInventoryByMachine?pageSize=0", true, 400, "InvalidRequestBody"},
		{"sas hours too many", "/api/machines/HardwareFirmwareInventoryExport?sasValidHours=25", true, 400, "InvalidRequestBody"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, body := call(t, s, tt.path, tt.auth)
			if resp.StatusCode != tt.status || errorCode(body) != tt.code {
				t.Errorf("status %d, code %q; want %d, %q", resp.StatusCode, errorCode(body), tt.status, tt.code)
			}
		})
	}
}

func TestRevokedTokenRefused(t *testing.T) {
	s := New(t, Options{})
	tok := s.issue(time.Hour)
	s.RevokeTokens()
	req, _ := http.NewRequest(http.MethodGet, s.URL+"/api/machines/HardwareFirmwareInventoryExport", nil)
	req.Header.Set("Authorization", "Bearer "+tok)
	resp, err := s.HTTPClient().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("revoked token: status %d", resp.StatusCode)
	}
}

func TestPagesShape(t *testing.T) {
	s := New(t, Options{})
	var recs []json.RawMessage
	for i := range 5 {
		recs = append(recs, json.RawMessage(fmt.Sprintf(`{"deviceId":"d%d"}`, i)))
	}
	s.SetRecords("hardware_firmware", recs)

	// Paths match regardless of case, and both hardware names serve.
	for _, path := range []string{
		"/api/machines/hardwarefirmwareinventorybymachine?pageSize=2",
		"/api/machines/HardwareFirmwareInventoryProductCodeByMachine?pageSize=2",
	} {
		_, body := call(t, s, path, true)
		if v := body["value"].([]any); len(v) != 2 {
			t.Errorf("%s: %d records, want 2", path, len(v))
		}
		next, _ := body["@odata.nextLink"].(string)
		if !strings.Contains(next, "$skiptoken=2") || !strings.Contains(next, "pageSize=2") || body["@odata.context"] == nil {
			t.Errorf("%s: nextLink %q", path, next)
		}
	}
	_, body := call(t, s, "/api/machines/HardwareFirmwareInventoryByMachine?$top=3", true)
	if v := body["value"].([]any); len(v) != 3 || body["@odata.nextLink"] != nil {
		t.Errorf("$top=3: %d records, nextLink %v", len(v), body["@odata.nextLink"])
	}
	_, body = call(t, s, "/api/machines/HardwareFirmwareInventoryByMachine", true)
	if v := body["value"].([]any); len(v) != 5 || body["@odata.nextLink"] != nil {
		t.Errorf("default page: %d records, nextLink %v", len(v), body["@odata.nextLink"])
	}
}

func TestAddDataset(t *testing.T) {
	s := New(t, Options{})
	s.AddDataset(Dataset{Name: "custom", PagesPaths: []string{"/api/custom/ByMachine"}, ExportPath: "/api/custom/Export"})
	s.SetExport("custom", []string{"https://a/b?sig=x"}, time.Date(2024, 1, 2, 6, 0, 0, 0, time.UTC))
	resp, body := call(t, s, "/api/custom/Export", true)
	if resp.StatusCode != 200 || body["generatedTime"] != "2024-01-02T06:00:00Z" || len(body["exportFiles"].([]any)) != 1 {
		t.Errorf("status %d, body %v", resp.StatusCode, body)
	}
}

func TestRateLimit(t *testing.T) {
	s := New(t, Options{Minute: time.Hour})
	for i := range 6 {
		resp, body := call(t, s, "/api/machines/HardwareFirmwareInventoryExport", true)
		if i < 5 && resp.StatusCode != 200 {
			t.Fatalf("call %d: status %d", i+1, resp.StatusCode)
		}
		if i == 5 && (resp.StatusCode != 429 || resp.Header.Get("Retry-After") == "" || errorCode(body) != "TooManyRequests") {
			t.Errorf("sixth call: status %d, Retry-After %q, code %q", resp.StatusCode, resp.Header.Get("Retry-After"), errorCode(body))
		}
	}
	// The pages limit is counted apart.
	if resp, _ := call(t, s, "/api/machines/HardwareFirmwareInventoryByMachine", true); resp.StatusCode != 200 {
		t.Errorf("pages call: status %d", resp.StatusCode)
	}
}

func TestFaultQueue(t *testing.T) {
	s := New(t, Options{})
	s.Fail(1, Fault{Path: "/api/machines/HardwareFirmwareInventoryByMachine", Status: 500})
	s.Throttle(1, "7")
	resp, body := call(t, s, "/api/machines/HardwareFirmwareInventoryExport", true)
	if resp.StatusCode != 429 || resp.Header.Get("Retry-After") != "7" || errorCode(body) != "TooManyRequests" {
		t.Errorf("throttle: status %d, Retry-After %q", resp.StatusCode, resp.Header.Get("Retry-After"))
	}
	if resp, _ = call(t, s, "/api/machines/HardwareFirmwareInventoryByMachine", true); resp.StatusCode != 500 {
		t.Errorf("path fault: status %d", resp.StatusCode)
	}
	if resp, _ = call(t, s, "/api/machines/HardwareFirmwareInventoryByMachine", true); resp.StatusCode != 200 {
		t.Errorf("after the faults: status %d", resp.StatusCode)
	}
}

func TestHTTPClientDialsLoopbackOnly(t *testing.T) {
	s := New(t, Options{})
	_, err := s.HTTPClient().Get("https://192.0.2.1/")
	if err == nil || !strings.Contains(err.Error(), "loopback") {
		t.Errorf("err = %v, want a refusal to dial", err)
	}
}

func TestDeltaNeedsSince(t *testing.T) {
	s := New(t, Options{Unlimited: true})
	s.SetRecords("vulnerability_changes", []json.RawMessage{json.RawMessage(`{"deviceId":"d"}`)})
	const p = "/api/machines/SoftwareVulnerabilityChangesByMachine"
	ok := time.Now().Add(-24 * time.Hour).UTC().Format(time.RFC3339)
	old := time.Now().Add(-15 * 24 * time.Hour).UTC().Format(time.RFC3339)
	for query, want := range map[string]int{
		"": 400, "?sinceTime=yesterday": 400, "?sinceTime=" + old: 400, "?sinceTime=" + ok: 200,
	} {
		resp, body := call(t, s, p+query, true)
		if resp.StatusCode != want {
			t.Errorf("%s: %d %v, want %d", query, resp.StatusCode, body, want)
		}
	}
}
