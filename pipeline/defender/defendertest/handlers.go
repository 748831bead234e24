package defendertest

import (
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"math"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// serve routes a request to the sign-in or API handlers and logs it.
func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	rec := &recorder{ResponseWriter: w, status: http.StatusOK}
	defer func() {
		s.mu.Lock()
		s.requests = append(s.requests, Request{
			Method: r.Method, Path: r.URL.Path, Query: r.URL.Query(), Status: rec.status, At: time.Now(),
		})
		s.mu.Unlock()
	}()

	p := strings.Split(strings.Trim(r.URL.Path, "/"), "/")
	switch {
	case r.URL.Path == "/common/discovery/instance":
		s.instanceDiscovery(rec, r)
	case len(p) == 4 && p[1] == "v2.0" && p[2] == ".well-known" && p[3] == "openid-configuration":
		s.openIDConfiguration(rec, p[0])
	case len(p) == 4 && p[1] == "oauth2" && p[2] == "v2.0" && p[3] == "token":
		s.token(rec, r, p[0])
	default:
		s.api(rec, r)
	}
}

type recorder struct {
	http.ResponseWriter
	status int
}

func (r *recorder) WriteHeader(code int) {
	r.status = code
	r.ResponseWriter.WriteHeader(code)
}

// instanceDiscovery answers the Entra instance discovery call, which a
// credential makes only when instance discovery is left on.
func (s *Server) instanceDiscovery(w http.ResponseWriter, r *http.Request) {
	host := strings.TrimPrefix(s.URL, "https://")
	writeJSON(w, http.StatusOK, map[string]any{
		"tenant_discovery_endpoint": s.URL + "/" + s.Tenant + "/v2.0/.well-known/openid-configuration",
		"api-version":               "1.1",
		"metadata": []map[string]any{{
			"preferred_network": host, "preferred_cache": host, "aliases": []string{host},
		}},
	})
}

// openIDConfiguration answers the tenant's OpenID metadata, whose issuer
// must be on the same host as the authority for the identity library to
// accept it.
func (s *Server) openIDConfiguration(w http.ResponseWriter, tenant string) {
	if tenant != s.Tenant {
		writeJSON(w, http.StatusBadRequest, map[string]any{
			"error": "invalid_tenant", "error_description": "AADSTS90002: Tenant '" + tenant + "' not found.",
		})
		return
	}
	base := s.URL + "/" + tenant
	writeJSON(w, http.StatusOK, map[string]any{
		"token_endpoint":                        base + "/oauth2/v2.0/token",
		"authorization_endpoint":                base + "/oauth2/v2.0/authorize",
		"issuer":                                base + "/v2.0",
		"jwks_uri":                              base + "/discovery/v2.0/keys",
		"token_endpoint_auth_methods_supported": []string{"client_secret_post", "private_key_jwt"},
		"response_types_supported":              []string{"code", "id_token", "token"},
	})
}

// token issues an access token for the client credentials grant.
func (s *Server) token(w http.ResponseWriter, r *http.Request, tenant string) {
	if err := r.ParseForm(); err != nil || r.Method != http.MethodPost {
		writeJSON(w, http.StatusBadRequest, oauthError("invalid_request", "AADSTS900144: malformed request."))
		return
	}
	f := r.PostForm
	switch {
	case tenant != s.Tenant:
		writeJSON(w, http.StatusBadRequest, oauthError("invalid_tenant", "AADSTS90002: Tenant not found."))
	case f.Get("grant_type") != "client_credentials":
		writeJSON(w, http.StatusBadRequest, oauthError("unsupported_grant_type", "AADSTS70003: unsupported grant."))
	case f.Get("client_id") != s.ClientID:
		writeJSON(w, http.StatusBadRequest, oauthError("unauthorized_client", "AADSTS700016: Application not found."))
	case f.Get("client_secret") != s.ClientSecret:
		writeJSON(w, http.StatusUnauthorized, oauthError("invalid_client", "AADSTS7000215: Invalid client secret provided."))
	case !defaultScope(f.Get("scope")):
		writeJSON(w, http.StatusBadRequest, oauthError("invalid_scope", "AADSTS1002012: scope must end in /.default."))
	default:
		life := s.opts.TokenLifetime
		tok := s.issue(life)
		writeJSON(w, http.StatusOK, map[string]any{
			"token_type": "Bearer", "expires_in": int(life.Seconds()),
			"ext_expires_in": int(life.Seconds()), "access_token": tok,
		})
	}
}

// defaultScope reports whether a client credentials scope list names a
// resource's /.default scope, as the grant requires.
func defaultScope(scopes string) bool {
	for _, s := range strings.Fields(scopes) {
		if strings.HasSuffix(s, "/.default") {
			return true
		}
	}
	return false
}

func oauthError(code, desc string) map[string]any {
	return map[string]any{"error": code, "error_description": desc, "correlation_id": newID()}
}

// issue makes a token shaped like a JSON web token, so that tests of
// redaction see the real shape.
func (s *Server) issue(life time.Duration) string {
	enc := base64.RawURLEncoding
	head := enc.EncodeToString([]byte(`{"typ":"JWT","alg":"none"}`))
	body := enc.EncodeToString(fmt.Appendf(nil, `{"aud":"https://api.securitycenter.microsoft.com","tid":%q,"jti":%q,"exp":%d}`,
		s.Tenant, newID(), time.Now().Add(life).Unix()))
	sig := make([]byte, 32)
	rand.Read(sig)
	tok := head + "." + body + "." + enc.EncodeToString(sig)

	s.mu.Lock()
	defer s.mu.Unlock()
	s.tokens[tok] = time.Now().Add(life)
	return tok
}

// api answers an export call: sign-in check, routing, rate limits, injected
// faults, then the endpoint itself.
func (s *Server) api(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet {
		writeError(w, http.StatusMethodNotAllowed, "MethodNotAllowed", "The requested resource does not support http method '"+r.Method+"'.", nil)
		return
	}
	if !s.authorized(r) {
		writeError(w, http.StatusUnauthorized, "Unauthorized", "Authorization has been denied for this request.", nil)
		return
	}
	d, pages, ok := s.route(r.URL.Path)
	if !ok {
		writeError(w, http.StatusNotFound, "ResourceNotFound", "Resource '"+r.URL.Path+"' not found.", nil)
		return
	}
	if ok, wait := s.admit(pages); !ok {
		h := http.Header{"Retry-After": {strconv.Itoa(int(math.Ceil(wait.Seconds())))}}
		writeError(w, http.StatusTooManyRequests, "TooManyRequests",
			fmt.Sprintf("API calls quota exceeded! Next call is allowed in %d seconds.", int(math.Ceil(wait.Seconds()))), h)
		return
	}
	if f, ok := s.nextFault(r.URL.Path); ok {
		var h http.Header
		if f.RetryAfter != "" {
			h = http.Header{"Retry-After": {f.RetryAfter}}
		}
		writeError(w, f.Status, f.Code, f.Message, h)
		return
	}
	if pages {
		s.pages(w, r, d)
	} else {
		s.export(w, r, d)
	}
}

// authorized checks the bearer token against those issued and unexpired.
func (s *Server) authorized(r *http.Request) bool {
	tok, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	if !ok {
		return false
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	exp, ok := s.tokens[tok]
	return ok && time.Now().Before(exp)
}

// route finds the dataset an API path belongs to, and whether it is a
// JSON pages path (or else the via-files one). Paths match regardless of
// case, as the service's do.
func (s *Server) route(path string) (Dataset, bool, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, d := range s.datasets {
		for _, p := range d.PagesPaths {
			if strings.EqualFold(p, path) {
				return d, true, true
			}
		}
		if d.ExportPath != "" && strings.EqualFold(d.ExportPath, path) {
			return d, false, true
		}
	}
	return Dataset{}, false, false
}

// export answers a via-files call.
func (s *Server) export(w http.ResponseWriter, r *http.Request, d Dataset) {
	hours := 0
	if v := r.URL.Query().Get("sasValidHours"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 24 {
			writeError(w, http.StatusBadRequest, "InvalidRequestBody", "sasValidHours must be between 1 and 24.", nil)
			return
		}
		hours = n
	}
	s.mu.Lock()
	fn := s.exports[d.Name]
	s.mu.Unlock()

	files, generated := []string{}, time.Now().UTC().Truncate(time.Hour)
	if fn != nil {
		f, g := fn(hours)
		files = append(files, f...)
		if !g.IsZero() {
			generated = g.UTC()
		}
	}
	writeJSON(w, http.StatusOK, map[string]any{
		"@odata.context": s.URL + "/api/$metadata#microsoft.windowsDefenderATP.api.ExportFilesResponse",
		"exportFiles":    files,
		"generatedTime":  generated.Format(time.RFC3339),
	})
}

// The service's page sizes, and how far back a delta reaches.
const (
	defaultPageSize = 50_000
	maxPageSize     = 200_000
	maxSince        = 14 * 24 * time.Hour
)

// pages answers one JSON page: pageSize records from $skiptoken on, with a
// nextLink while more remain, unless $top asked for the first few only.
func (s *Server) pages(w http.ResponseWriter, r *http.Request, d Dataset) {
	q := r.URL.Query()
	size, skip, top := defaultPageSize, 0, -1
	var err error
	if v := q.Get("pageSize"); v != "" {
		if size, err = strconv.Atoi(v); err != nil || size < 1 || size > maxPageSize {
			writeError(w, http.StatusBadRequest, "InvalidRequestBody", "pageSize must be between 1 and 200000.", nil)
			return
		}
	}
	if v := q.Get("$top"); v != "" {
		if top, err = strconv.Atoi(v); err != nil || top < 0 {
			writeError(w, http.StatusBadRequest, "InvalidRequestBody", "$top must be a non-negative integer.", nil)
			return
		}
	}
	if d.SinceParam != "" {
		since, err := time.Parse(time.RFC3339, q.Get(d.SinceParam))
		if err != nil || time.Since(since) > maxSince || time.Until(since) > 0 {
			writeError(w, http.StatusBadRequest, "InvalidRequestBody",
				d.SinceParam+" is required: a time at most 14 days back.", nil)
			return
		}
	}
	if v := q.Get("$skiptoken"); v != "" {
		if skip, err = strconv.Atoi(v); err != nil || skip < 0 {
			writeError(w, http.StatusBadRequest, "InvalidRequestBody", "Invalid $skiptoken.", nil)
			return
		}
	}

	s.mu.Lock()
	all, loop := s.records[d.Name], s.loop
	s.mu.Unlock()

	end := min(skip+size, len(all))
	if top >= 0 {
		end = min(skip+top, len(all))
	}
	skip = min(skip, end)
	body := struct {
		Context  string            `json:"@odata.context"`
		Value    []json.RawMessage `json:"value"`
		NextLink string            `json:"@odata.nextLink,omitempty"`
	}{
		Context: s.URL + "/api/$metadata#Collection(microsoft.windowsDefenderATP.api." + d.Name + ")",
		Value:   append([]json.RawMessage{}, all[skip:end]...),
	}
	switch {
	case top >= 0:
	case loop && skip > 0:
		body.NextLink = s.root(r) + r.URL.RequestURI()
	case end < len(all):
		// The service writes $skiptoken with its dollar sign as is.
		q.Del("$skiptoken")
		body.NextLink = s.root(r) + r.URL.Path + "?" + q.Encode() + "&$skiptoken=" + strconv.Itoa(end)
		body.NextLink = strings.Replace(body.NextLink, "?&", "?", 1)
	}
	writeJSON(w, http.StatusOK, body)
}

// root is the server's root as the client reached it: through a proxy
// that says where it was reached (X-Forwarded-Host), or directly.
func (s *Server) root(r *http.Request) string {
	host, proto := r.Header.Get("X-Forwarded-Host"), r.Header.Get("X-Forwarded-Proto")
	if host == "" || proto == "" {
		return s.URL
	}
	return proto + "://" + host
}

// writeError writes the service's error body with a fresh correlation id.
func writeError(w http.ResponseWriter, status int, code, msg string, h http.Header) {
	for k, v := range h {
		w.Header()[k] = v
	}
	writeJSON(w, status, map[string]any{
		"error": map[string]string{"code": code, "message": msg, "target": newID()},
	})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	enc.Encode(v)
}

// newID returns a random GUID-shaped id.
func newID() string {
	b := make([]byte, 16)
	rand.Read(b)
	h := hex.EncodeToString(b)
	return h[:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:]
}
