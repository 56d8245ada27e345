package token

import (
	"context"
	"errors"
	"net/url"
	"strings"

	absauth "github.com/microsoft/kiota-abstractions-go/authentication"
)

// ctxKey carries, on a request's context, which credentials its bearer token comes from.
type ctxKey struct{}

type ctxAuth struct {
	applicationID string
	accessToken   string // a fixed token (Redeem's /me and /organization)
}

// ForApplication marks ctx's Graph requests as the application's: Provider hands out its
// access token.
func ForApplication(ctx context.Context, applicationID string) context.Context {
	return context.WithValue(ctx, ctxKey{}, ctxAuth{applicationID: applicationID})
}

// WithAccessToken marks ctx's Graph requests to carry this token.
func WithAccessToken(ctx context.Context, accessToken string) context.Context {
	return context.WithValue(ctx, ctxKey{}, ctxAuth{accessToken: accessToken})
}

// Provider is kiota's AccessTokenProvider for Graph: it hands out the access token of the
// application named on the request's context (ForApplication) or the token put there
// (WithAccessToken), only to Host, and never one of another tenant than the call is bound to.
type Provider struct {
	Source *Source
	Host   string // the configured Graph URL's host
}

// GetAuthorizationToken implements kiota's AccessTokenProvider.
func (p *Provider) GetAuthorizationToken(ctx context.Context, u *url.URL, _ map[string]any) (string, error) {
	if u == nil || !strings.EqualFold(u.Host, p.Host) {
		return "", errors.New("entra: refusing to send a token to a host other than the configured Graph URL")
	}
	a, ok := ctx.Value(ctxKey{}).(ctxAuth)
	switch {
	case !ok:
		return "", errors.New("entra: no application on the request context")
	case a.accessToken != "":
		return a.accessToken, nil
	}
	tok, err := p.Source.AccessToken(ctx, a.applicationID)
	if err != nil {
		return "", err
	}
	if err := CheckTenant(ctx, tok); err != nil {
		return "", err
	}
	return tok, nil
}

// GetAllowedHostsValidator allows every host: GetAuthorizationToken checks the host itself,
// and plain http to the emulator on 127.0.0.1 must work.
func (p *Provider) GetAllowedHostsValidator() *absauth.AllowedHostsValidator {
	v := absauth.NewAllowedHostsValidator(nil)
	return &v
}
