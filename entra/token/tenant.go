package token

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"strings"

	"github.com/jitaccess/jitaccess/directory"
)

// Tenant pinning (issue #15 finding 2): a Graph call whose context is bound to an Entra tenant
// (directory.WithTenant) is refused before it is sent when the access token's tid is another
// tenant, so a re-pointed application can never make "not found" in the wrong tenant look
// like success.

// TenantOf reads the tid claim of an access token received from the token endpoint (the
// signature is Graph's business; only the tenant it names matters here). "" when absent.
func TenantOf(accessToken string) string { return tokenClaims(accessToken).TID }

// ObjectIDOf reads the oid claim of an access token: the signed-in user, or the service
// principal of an app-only token.
func ObjectIDOf(accessToken string) string { return tokenClaims(accessToken).OID }

type claims struct {
	TID string `json:"tid"`
	OID string `json:"oid"`
}

// tokenClaims reads the tid and oid claims (lower-cased) of a JWT access token; zero when it
// is not one.
func tokenClaims(accessToken string) claims {
	var c claims
	parts := strings.Split(accessToken, ".")
	if len(parts) != 3 {
		return c
	}
	raw, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil || json.Unmarshal(raw, &c) != nil {
		return claims{}
	}
	c.TID, c.OID = strings.ToLower(c.TID), strings.ToLower(c.OID)
	return c
}

// CheckTenant compares the token's tenant with the one the call is bound to (directory.TenantOf).
func CheckTenant(ctx context.Context, accessToken string) error {
	want := directory.TenantOf(ctx)
	if want == "" {
		return nil
	}
	if got := TenantOf(accessToken); got != want {
		return &directory.TenantMismatchError{Pinned: want, Got: got}
	}
	return nil
}
