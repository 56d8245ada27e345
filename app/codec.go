package app

import (
	"context"
	"errors"
	"net/http"
	"strings"

	"github.com/jitaccess/jitaccess/config"
	"github.com/jitaccess/jitaccess/server"
	"github.com/jitaccess/jitaccess/store"
	"github.com/jitaccess/jitaccess/temporalclient"
)

// CodecHandler is the codec server for cfg, for admins identified by st's API tokens or a
// portal session.
func CodecHandler(cfg config.Config, st CodecTokens, sessions CodecSessions, allowEncode bool) (http.Handler, error) {
	codec, err := temporalclient.CodecFromConfig(cfg)
	if err != nil {
		return nil, err
	}
	auth := adminOnly{tokens: st, sessions: sessions, cookie: server.SessionCookieName(cfg.PublicURL)}
	return temporalclient.NewCodecServer(codec, auth, temporalclient.CodecServerOptions{
		Namespace: cfg.TemporalNamespace, CORSOrigin: cfg.CodecCORSOrigin, AllowEncode: allowEncode,
	}), nil
}

// CodecTokens authenticates API tokens (*store.Store).
type CodecTokens interface {
	Authenticate(ctx context.Context, plain string) (store.Technician, error)
}

// CodecSessions finds a portal session's holder (server.Sessions).
type CodecSessions interface {
	SessionTechnician(ctx context.Context, cookie string) (store.Technician, error)
}

// adminOnly admits a bearer API token or a portal session cookie whose holder is an admin.
type adminOnly struct {
	tokens   CodecTokens
	sessions CodecSessions
	cookie   string
}

func (a adminOnly) Authorize(r *http.Request) error {
	var (
		who store.Technician
		err = store.ErrUnauthenticated
	)
	if bearer, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer "); ok {
		who, err = a.tokens.Authenticate(r.Context(), strings.TrimSpace(bearer))
	} else if ck, cerr := r.Cookie(a.cookie); cerr == nil && ck.Value != "" {
		who, err = a.sessions.SessionTechnician(r.Context(), ck.Value)
	}
	switch {
	case errors.Is(err, store.ErrUnauthenticated):
		return temporalclient.ErrUnauthenticated
	case err != nil:
		return err
	case who.Role != store.RoleAdmin:
		return temporalclient.ErrForbidden
	}
	return nil
}
