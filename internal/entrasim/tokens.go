package entrasim

import (
	"crypto"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"math/big"
	"strings"
	"time"
)

const (
	graphAppID       = "00000003-0000-0000-c000-000000000000"
	graphResourceURI = "https://graph.microsoft.com"
	accessTokenTTL   = time.Hour
	codeTTL          = 10 * time.Minute
	// Refresh tokens expire after 90 days of inactivity (AADSTS700082).
	refreshTokenTTL = 90 * 24 * time.Hour
)

func b64(b []byte) string { return base64.RawURLEncoding.EncodeToString(b) }

// signJWT makes a compact RS256 JWS with the server's key.
func (s *Server) signJWT(claims map[string]any) string {
	hdr, _ := json.Marshal(map[string]string{"typ": "JWT", "alg": "RS256", "kid": s.kid})
	body, _ := json.Marshal(claims)
	input := b64(hdr) + "." + b64(body)
	sum := sha256.Sum256([]byte(input))
	sig, err := rsa.SignPKCS1v15(nil, s.key, crypto.SHA256, sum[:])
	if err != nil {
		panic(err) // only fails for keys too small for SHA-256, which New never makes
	}
	return input + "." + b64(sig)
}

var errMalformedToken = errors.New("malformed")

// verifyJWT checks the signature and returns the claims; expiry is checked by the caller.
func (s *Server) verifyJWT(tok string) (map[string]any, error) {
	parts := strings.Split(tok, ".")
	if len(parts) != 3 {
		return nil, errMalformedToken
	}
	sig, err := base64.RawURLEncoding.DecodeString(parts[2])
	if err != nil {
		return nil, errMalformedToken
	}
	sum := sha256.Sum256([]byte(parts[0] + "." + parts[1]))
	if err := rsa.VerifyPKCS1v15(&s.key.PublicKey, crypto.SHA256, sum[:], sig); err != nil {
		return nil, errors.New("signature")
	}
	body, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		return nil, errMalformedToken
	}
	var claims map[string]any
	dec := json.NewDecoder(strings.NewReader(string(body)))
	dec.UseNumber()
	if err := dec.Decode(&claims); err != nil {
		return nil, errMalformedToken
	}
	return claims, nil
}

// principal is who a Graph request acts as.
type principal struct {
	tenantID string
	userID   string // empty for app-only tokens
	appID    string
	scopes   map[string]bool // delegated scp or application roles
	app      bool
	expires  time.Time
}

func (s *Server) accessToken(tenantID, userID, upn string, scopes []string, app bool) string {
	now := s.now()
	c := map[string]any{
		"aud":   graphResourceURI,
		"iss":   "https://sts.windows.net/" + tenantID + "/",
		"iat":   now.Unix(),
		"nbf":   now.Unix(),
		"exp":   now.Add(accessTokenTTL).Unix(),
		"tid":   tenantID,
		"appid": ClientID,
		"ver":   "1.0",
		"uti":   b64(randomBytes(16)),
	}
	if app {
		c["idtyp"] = "app"
		c["oid"] = servicePrincipalID(tenantID)
		c["sub"] = servicePrincipalID(tenantID)
		c["roles"] = scopes
	} else {
		c["idtyp"] = "user"
		c["oid"] = userID
		c["sub"] = pairwiseSub(userID)
		c["upn"] = upn
		c["scp"] = strings.Join(scopes, " ")
	}
	return s.signJWT(c)
}

// servicePrincipalID is the stable object id of jitaccess-dev's service principal in a tenant.
func servicePrincipalID(tenantID string) string {
	sum := sha256.Sum256([]byte("sp:" + ClientID + ":" + tenantID))
	b := sum[:16]
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	h := hexString(b)
	return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:32]
}

func hexString(b []byte) string {
	const digits = "0123456789abcdef"
	out := make([]byte, 2*len(b))
	for i, c := range b {
		out[2*i], out[2*i+1] = digits[c>>4], digits[c&15]
	}
	return string(out)
}

// pairwiseSub: Entra's sub is unique per user and application.
func pairwiseSub(oid string) string {
	sum := sha256.Sum256([]byte(ClientID + ":" + oid))
	return b64(sum[:])
}

func (s *Server) idToken(base string, t *tenant, u *user, nonce string, scopes []string) string {
	now := s.now()
	c := map[string]any{
		"aud":                ClientID,
		"iss":                base + "/" + t.ID + "/v2.0",
		"iat":                now.Unix(),
		"nbf":                now.Unix(),
		"exp":                now.Add(accessTokenTTL).Unix(),
		"tid":                t.ID,
		"oid":                u.ID,
		"sub":                pairwiseSub(u.ID),
		"preferred_username": u.UPN,
		"name":               u.DisplayName,
		"ver":                "2.0",
		"uti":                b64(randomBytes(16)),
	}
	if nonce != "" {
		c["nonce"] = nonce
	}
	// email is emitted when the email scope was granted and the user has a mail address (v2 ID token reference).
	if containsFold(scopes, "email") {
		if m := u.propString("mail"); m != "" {
			c["email"] = m
		}
	}
	return s.signJWT(c)
}

func (s *Server) jwks(issuer string) map[string]any {
	pub := s.key.PublicKey
	return map[string]any{"keys": []map[string]any{{
		"kty":    "RSA",
		"use":    "sig",
		"kid":    s.kid,
		"n":      b64(pub.N.Bytes()),
		"e":      b64(big.NewInt(int64(pub.E)).Bytes()),
		"issuer": issuer,
	}}}
}

func containsFold(list []string, v string) bool {
	for _, x := range list {
		if strings.EqualFold(x, v) {
			return true
		}
	}
	return false
}

// --- scopes ---

// delegatedScope returns the canonical name of a Microsoft Graph delegated permission and
// whether it needs admin consent.
func delegatedScope(name string) (canonical string, admin bool, ok bool) {
	for _, p := range []struct {
		n     string
		admin bool
	}{
		{"User.Read", false}, {"User.ReadBasic.All", false},
		{"User.Read.All", true}, {"User.ReadWrite.All", true},
		{"User.EnableDisableAccount.All", true}, {"User.RevokeSessions.All", true},
		{"User-PasswordProfile.ReadWrite.All", true},
		{"Directory.Read.All", true}, {"Directory.ReadWrite.All", true}, {"Directory.AccessAsUser.All", true},
		{"Domain.Read.All", true}, {"Domain.ReadWrite.All", true},
		{"Organization.Read.All", true},
		{"RoleManagement.Read.Directory", true}, {"RoleManagement.ReadWrite.Directory", true},
		{"UserAuthenticationMethod.Read.All", true}, {"UserAuthenticationMethod.ReadWrite.All", true},
		{"AdministrativeUnit.Read.All", true}, {"AdministrativeUnit.ReadWrite.All", true},
		{"Policy.Read.All", true}, {"Policy.Read.AuthenticationMethod", true}, {"Policy.ReadWrite.AuthenticationMethod", true},
	} {
		if strings.EqualFold(p.n, name) {
			return p.n, p.admin, true
		}
	}
	return "", false, false
}

// The permissions configured on the jitaccess-dev registration: what ".default" means.
func configuredDelegated() []string {
	return []string{"User.Read", "User.ReadWrite.All", "RoleManagement.ReadWrite.Directory", "Domain.Read.All", "Directory.Read.All",
		"UserAuthenticationMethod.ReadWrite.All", "Policy.Read.All", "AdministrativeUnit.ReadWrite.All"}
}

// Application permissions granted to client-credentials tokens ("every permission").
func applicationRoles() []string {
	return []string{"User.ReadWrite.All", "User.Read.All", "Directory.ReadWrite.All", "Directory.Read.All",
		"Domain.Read.All", "Domain.ReadWrite.All", "Organization.Read.All", "RoleManagement.ReadWrite.Directory",
		"RoleManagement.Read.Directory", "User.RevokeSessions.All", "User-PasswordProfile.ReadWrite.All",
		"User.EnableDisableAccount.All", "UserAuthenticationMethod.ReadWrite.All", "UserAuthenticationMethod.Read.All",
		"Policy.Read.All", "Policy.ReadWrite.AuthenticationMethod", "AdministrativeUnit.ReadWrite.All", "AdministrativeUnit.Read.All"}
}

func isOIDCScope(s string) (string, bool) {
	for _, o := range []string{"openid", "profile", "email", "offline_access"} {
		if strings.EqualFold(s, o) {
			return o, true
		}
	}
	return "", false
}

type scopeSet struct {
	graph      []string // canonical Graph permission names
	oidc       []string
	dflt       bool
	adminScope bool
}

// parseScopes validates a space-separated scope parameter. A bare permission name means Graph,
// as Entra assumes for unqualified scopes.
func parseScopes(raw string) (scopeSet, *tokenError) {
	var ss scopeSet
	fields := strings.Fields(raw)
	if len(fields) == 0 {
		return ss, invalidRequest(900144, "The request body must contain the following parameter: 'scope'.")
	}
	seen := map[string]bool{}
	for _, f := range fields {
		if o, ok := isOIDCScope(f); ok {
			if !seen[o] {
				ss.oidc = append(ss.oidc, o)
				seen[o] = true
			}
			continue
		}
		name := f
		lower := strings.ToLower(f)
		for _, prefix := range []string{graphResourceURI + "/", graphAppID + "/"} {
			if strings.HasPrefix(lower, prefix) {
				name = f[len(prefix):]
			}
		}
		if name == ".default" {
			ss.dflt = true
			continue
		}
		c, admin, ok := delegatedScope(name)
		if !ok || strings.Contains(name, "/") {
			return ss, &tokenError{status: 400, err: "invalid_scope", code: 70011,
				desc: "The provided request must include a 'scope' input parameter. The provided value for the input parameter 'scope' is not valid. The scope " + raw + " is not valid."}
		}
		if !seen[c] {
			ss.graph = append(ss.graph, c)
			seen[c] = true
		}
		ss.adminScope = ss.adminScope || admin
	}
	if ss.dflt && len(ss.graph) > 0 {
		// .default cannot be combined with resource-specific scopes.
		return ss, &tokenError{status: 400, err: "invalid_scope", code: 70011,
			desc: "The provided value for the input parameter 'scope' is not valid. The scope " + raw + " is not valid. static scope limit exceeded."}
	}
	if ss.dflt {
		ss.graph = configuredDelegated()
		ss.adminScope = true
	}
	if len(ss.graph) == 0 {
		// Only OIDC scopes: the access token is for Graph with User.Read.
		ss.graph = []string{"User.Read"}
	}
	return ss, nil
}

func (ss scopeSet) all() []string {
	out := append([]string{}, ss.graph...)
	return append(out, ss.oidc...)
}

// grantedScopeString is the "scope" of a token response: Graph permissions as full URIs, then OIDC ones.
func grantedScopeString(scopes []string) string {
	var parts []string
	for _, s := range scopes {
		if _, ok := isOIDCScope(s); ok {
			parts = append(parts, s)
		} else {
			parts = append(parts, graphResourceURI+"/"+s)
		}
	}
	return strings.Join(parts, " ")
}

func graphOnly(scopes []string) []string {
	var out []string
	for _, s := range scopes {
		if _, ok := isOIDCScope(s); !ok {
			out = append(out, s)
		}
	}
	return out
}
