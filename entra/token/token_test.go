package token_test

import (
	"context"
	"encoding/base64"
	"errors"
	"net/url"
	"strings"
	"testing"

	"github.com/jitaccess/jitaccess/directory"
	"github.com/jitaccess/jitaccess/entra/token"
)

func jwt(claims string) string {
	return "h." + base64.RawURLEncoding.EncodeToString([]byte(claims)) + ".s"
}

func TestTokensArePinnedToTheirTenant(t *testing.T) {
	tok := jwt(`{"tid":"AAAA-1","oid":"BBBB-2"}`)
	if token.TenantOf(tok) != "aaaa-1" || token.ObjectIDOf(tok) != "bbbb-2" || token.TenantOf("opaque") != "" {
		t.Errorf("claims of %s", tok)
	}
	if err := token.CheckTenant(context.Background(), tok); err != nil {
		t.Errorf("a call bound to no tenant: %v", err)
	}
	if err := token.CheckTenant(directory.WithTenant(context.Background(), "aaaa-1"), tok); err != nil {
		t.Errorf("the token's own tenant: %v", err)
	}
	var tm *directory.TenantMismatchError
	if err := token.CheckTenant(directory.WithTenant(context.Background(), "cccc-3"), tok); !errors.As(err, &tm) || tm.Got != "aaaa-1" {
		t.Errorf("another tenant: %v", err)
	}
}

// The provider hands a token only to the Graph host, and only for a request that names whose.
func TestProviderRefusesOtherHosts(t *testing.T) {
	p := &token.Provider{Source: token.NewAppOnly(token.Config{}, nil), Host: "graph.example"}
	ctx := token.WithAccessToken(context.Background(), "t0k")
	if _, err := p.GetAuthorizationToken(ctx, &url.URL{Scheme: "https", Host: "evil.example"}, nil); err == nil {
		t.Error("a token was handed to another host")
	}
	if got, err := p.GetAuthorizationToken(ctx, &url.URL{Scheme: "https", Host: "GRAPH.example"}, nil); err != nil || got != "t0k" {
		t.Errorf("the Graph host: %q, %v", got, err)
	}
	if _, err := p.GetAuthorizationToken(context.Background(), &url.URL{Host: "graph.example"}, nil); err == nil || !strings.Contains(err.Error(), "no application") {
		t.Errorf("a request naming no application: %v", err)
	}
}

func TestAuthCodeURL(t *testing.T) {
	s := token.NewDelegated(token.Config{Authority: "https://login.example/", ClientID: "cid", RedirectURL: "https://jit.example/oauth/callback"}, nil)
	u, err := url.Parse(s.AuthCodeURL("st", strings.Repeat("v", 43), "admin@contoso.example"))
	if err != nil {
		t.Fatal(err)
	}
	q := u.Query()
	if u.Host != "login.example" || u.Path != "/organizations/oauth2/v2.0/authorize" || q.Get("state") != "st" ||
		q.Get("code_challenge_method") != "S256" || q.Get("login_hint") != "admin@contoso.example" ||
		q.Get("prompt") != "select_account" || !strings.Contains(q.Get("scope"), "offline_access") {
		t.Errorf("consent URL %s", u)
	}
}
