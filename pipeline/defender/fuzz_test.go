package defender

import (
	"encoding/json"
	"net/url"
	"strings"
	"testing"
)

// FuzzPageDecode: decoding never panics, and every record accepted is a
// whole JSON value.
func FuzzPageDecode(f *testing.F) {
	f.Add(`{"@odata.context":"x","value":[{"a":1},{"b":"c"}],"@odata.nextLink":"https://h/p?$skiptoken=2"}`)
	f.Add(`{"value":[]}`)
	f.Add(`{"value":[{"a":1},`)
	f.Add(`{"VALUE":[1,"two",null,[3]],"x":{"y":[]}}`)
	f.Add(`[]`)
	f.Fuzz(func(t *testing.T, body string) {
		var p page
		if err := p.decode(strings.NewReader(body)); err != nil {
			return
		}
		for _, r := range p.records {
			if !json.Valid(r) {
				t.Fatalf("record %q accepted but not JSON", r)
			}
		}
	})
}

// FuzzRedact: whatever a signature holds, it does not survive Redact in
// the places a link appears: as is, inside JSON, and inside a Go error.
func FuzzRedact(f *testing.F) {
	f.Add("muN8Sq6rVN6bFMtR0u3S5Wzh3D9qNPgN5vpU7lWvULg=")
	f.Add("a+b/c==&x")
	f.Add("\"quoted\" sig")
	f.Fuzz(func(t *testing.T, sig string) {
		esc := url.QueryEscape(sig)
		if len(esc) < 8 || strings.Contains("REDACTED", esc) {
			return
		}
		link := "https://acct.blob.core.windows.net/c/p.json.gz?sv=2020-08-04&sr=b&sig=" + esc + "&sp=r"
		js, _ := json.Marshal(map[string]string{"link": link})
		for _, s := range []string{link, string(js), `Get "` + link + `": EOF`} {
			if got := Redact(s); strings.Contains(got, esc) {
				t.Fatalf("Redact(%q) = %q keeps the signature", s, got)
			}
		}
	})
}
