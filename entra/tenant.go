package entra

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"strings"

	"github.com/jitaccess/jitaccess/directory"
)

// Tenant pinning (issue #15 finding 2): every Graph call can be bound to the Entra tenant a
// grant was made in; the connector then refuses to send a token whose tid is another tenant,
// so a re-pointed application can never make "not found" in the wrong tenant look like success.

type tenantKey struct{}

// WithTenant binds the Graph calls made with ctx to the Entra tenant id entraTenantID (the one
// recorded on the grant). A call whose access token belongs to another tenant fails with
// *directory.TenantMismatchError before anything is sent.
func WithTenant(ctx context.Context, entraTenantID string) context.Context {
	return context.WithValue(ctx, tenantKey{}, strings.ToLower(strings.TrimSpace(entraTenantID)))
}

func expectedTenant(ctx context.Context) string {
	t, _ := ctx.Value(tenantKey{}).(string)
	return t
}

// tokenTenant reads the tid claim of an access token received from the token endpoint (the
// signature is Graph's business; only the tenant it names matters here). "" when absent.
func tokenTenant(accessToken string) string {
	parts := strings.Split(accessToken, ".")
	if len(parts) != 3 {
		return ""
	}
	raw, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		return ""
	}
	var claims struct {
		TID string `json:"tid"`
	}
	if json.Unmarshal(raw, &claims) != nil {
		return ""
	}
	return strings.ToLower(claims.TID)
}

// checkTenant compares the token's tenant with the one the call is bound to.
func checkTenant(ctx context.Context, accessToken string) error {
	want := expectedTenant(ctx)
	if want == "" {
		return nil
	}
	if got := tokenTenant(accessToken); got != want {
		return &directory.TenantMismatchError{Pinned: want, Got: got}
	}
	return nil
}
