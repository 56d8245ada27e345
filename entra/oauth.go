package entra

import (
	"context"
	"errors"

	"github.com/jitaccess/jitaccess/directory"
	"github.com/jitaccess/jitaccess/entra/token"
)

// AuthCodeURL returns the Entra ID sign-in and consent URL for an admin of a customer tenant
// (token.Source.AuthCodeURL: PKCE, single-use state, login hint).
func (c *Client) AuthCodeURL(state, codeVerifier, loginHint string) string {
	return c.tokens.AuthCodeURL(state, codeVerifier, loginHint)
}

// Redeem exchanges an authorization code (with its PKCE verifier) for tokens, then reads
// who consented (GET /me) and in which tenant (GET /organization).
func (c *Client) Redeem(ctx context.Context, code, codeVerifier string) (directory.Consent, error) {
	if c.initErr != nil {
		return directory.Consent{}, c.initErr
	}
	tok, err := c.tokens.Exchange(ctx, code, codeVerifier)
	if err != nil {
		return directory.Consent{}, err
	}
	gctx := token.WithAccessToken(ctx, tok.AccessToken)

	me, err := c.graph.Me().Get(gctx, nil)
	if err != nil {
		return directory.Consent{}, mapGraphError("read the consenting admin (GET /me)", err)
	}
	orgs, err := c.graph.Organization().Get(gctx, nil)
	if err != nil {
		return directory.Consent{}, mapGraphError("read the tenant (GET /organization)", err)
	}
	if len(orgs.GetValue()) == 0 {
		return directory.Consent{}, errors.New("entra: read the tenant (GET /organization): Graph returned no organization")
	}
	org := orgs.GetValue()[0]
	consent := directory.Consent{
		RefreshToken:  tok.RefreshToken,
		Account:       deref(me.GetUserPrincipalName()),
		EntraTenantID: deref(org.GetId()),
		DisplayName:   deref(org.GetDisplayName()),
	}
	if consent.EntraTenantID == "" || consent.Account == "" {
		return directory.Consent{}, errors.New("entra: Graph returned no tenant id or no user principal name for the consenting admin")
	}
	return consent, nil
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}
