package consent

import (
	"errors"
	"log/slog"
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/jitaccess/jitaccess/server/web"
	"github.com/jitaccess/jitaccess/store"
)

// consentBindingRefused checks the callback against the browser that started the consent.
// A consent started in the portal must come back in the same portal session; one started
// through the API (an admin token, no browser) may come back in a browser without a session,
// or in the starting admin's own session, never in another person's. A refusal is answered
// here (an audit event and an error page; the code is not redeemed, nothing is stored).
func (s *Callback) consentBindingRefused(c *gin.Context, st store.OAuthState, app store.Application) bool {
	var sessHash, sessUser, sessRole string
	if ck, err := c.Cookie(s.sessionCookie); err == nil && ck != "" {
		sess, u, err := s.Deps.Store.Session(c.Request.Context(), ck, s.Deps.SessionIdleTimeout)
		switch {
		case err == nil:
			sessHash, sessUser, sessRole = sess.IDHash, u.ID, u.Role
		case !errors.Is(err, store.ErrNotFound):
			s.Log.ErrorContext(c.Request.Context(), "oauth callback: session", slog.String("request_id", web.RequestID(c)), slog.Any("error", err))
			s.resultPage(c, http.StatusInternalServerError, resultPage{Title: "Authorization failed", App: app.Name,
				Message: "Something went wrong on our side; it has been logged. Start the authorization again from the application."})
			return true
		}
	}
	var reason string
	switch {
	case st.SessionHash != "" && sessHash != st.SessionHash:
		reason = "other_session"
	case sessUser != "" && sessUser != st.AdminID:
		reason = "other_admin"
	default:
		return false
	}
	e := store.AuditEvent{ActorID: "anonymous", ActorKind: "anonymous", TenantID: app.TenantID, Action: "application.authorization_refused",
		Target: app.ID, Details: map[string]any{"error": "consent_session_mismatch", "reason": reason, "started_by": st.AdminID, "client_ip": c.ClientIP()}}
	if sessUser != "" {
		e.ActorID, e.ActorKind = sessUser, sessRole
		s.Audit(c, e)
	} else {
		s.AnonymousAudit(c, e)
	}
	s.resultPage(c, http.StatusForbidden, resultPage{Title: "This sign-in was started elsewhere", App: app.Name,
		Message: "consent_session_mismatch: this authorization was started in another browser session or by another admin, so it cannot be completed here. Nothing was changed. Start the authorization again from the application, in the browser where you are signed in."})
	return true
}
