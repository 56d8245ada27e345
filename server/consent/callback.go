package consent

import (
	"errors"
	"fmt"
	"log/slog"
	"net/http"

	"github.com/gin-gonic/gin"
	"github.com/jitaccess/jitaccess/directory"
	"github.com/jitaccess/jitaccess/server/portal"
	"github.com/jitaccess/jitaccess/server/web"
	"github.com/jitaccess/jitaccess/store"
)

// Handle is where Entra sends the admin's browser back. It consumes the state first
// (so nothing can be replayed), then redeems the code and stores the consent. Every failure
// ends on a page that says what happened and stores nothing.
func (s *Callback) Handle(c *gin.Context) {
	ctx := c.Request.Context()
	st, err := s.Deps.Store.ConsumeOAuthState(ctx, c.Query("state"))
	if err != nil {
		if !errors.Is(err, store.ErrInvalidState) {
			s.Log.ErrorContext(ctx, "oauth callback: state", slog.String("request_id", web.RequestID(c)), slog.Any("error", err))
			s.resultPage(c, http.StatusInternalServerError, resultPage{Title: "Authorization failed",
				Message: "Something went wrong on our side; it has been logged. Start the authorization again from the application."})
			return
		}
		s.AnonymousAudit(c, store.AuditEvent{ActorID: "anonymous", ActorKind: "anonymous", Action: "application.authorization_refused",
			Target: "oauth_callback", Details: map[string]any{"reason": err.Error(), "client_ip": c.ClientIP()}})
		s.resultPage(c, http.StatusBadRequest, resultPage{Title: "This sign-in link cannot be used",
			Message: stateMessage(err) + " Nothing was changed. Start the authorization again from the application."})
		return
	}
	app, err := s.Deps.Store.ApplicationByID(ctx, st.ApplicationID)
	if err != nil {
		s.Log.ErrorContext(ctx, "oauth callback: application", slog.String("request_id", web.RequestID(c)), slog.Any("error", err))
		s.resultPage(c, http.StatusNotFound, resultPage{Title: "Authorization failed", Message: "The application no longer exists. Nothing was changed."})
		return
	}
	if s.consentBindingRefused(c, st, app) {
		return
	}
	actor := store.AuditEvent{ActorID: st.AdminID, ActorKind: store.ActorAdmin, TenantID: app.TenantID, Target: app.ID}

	if e := c.Query("error"); e != "" {
		actor.Action = "application.authorization_failed"
		actor.Details = map[string]any{"error": web.Truncate(e, 100)}
		s.Audit(c, actor)
		s.resultPage(c, http.StatusBadRequest, resultPage{Title: "Authorization was not granted", App: app.Name,
			Message: portal.EntraErrorMessage(e) + " Nothing was changed; you can try again from the application."})
		return
	}
	code := c.Query("code")
	if code == "" {
		actor.Action, actor.Details = "application.authorization_failed", map[string]any{"error": "missing_code"}
		s.Audit(c, actor)
		s.resultPage(c, http.StatusBadRequest, resultPage{Title: "Authorization failed", App: app.Name,
			Message: "Microsoft Entra ID did not return an authorization code. Nothing was changed; try again from the application."})
		return
	}
	consent, err := s.Deps.Directory.Redeem(ctx, code, st.CodeVerifier)
	if err != nil {
		s.Log.WarnContext(ctx, "oauth callback: redeem failed", slog.String("request_id", web.RequestID(c)),
			slog.String("application_id", app.ID), slog.Any("error", err))
		actor.Action, actor.Details = "application.authorization_failed", map[string]any{"error": "code_redemption_failed"}
		s.Audit(c, actor)
		s.resultPage(c, http.StatusBadGateway, resultPage{Title: "Authorization failed", App: app.Name,
			Message: "Microsoft Entra ID refused to complete the sign-in (the code may have expired or been used). Nothing was changed; try again from the application."})
		return
	}
	updated, err := s.Deps.Store.SaveAuthorization(ctx, app.ID, consent, st.AdminID)
	var mismatch *directory.TenantMismatchError
	if errors.As(err, &mismatch) {
		// The application is pinned to the tenant of its first consent (code tenant_mismatch).
		actor.Action, actor.Details = "application.authorization_refused", map[string]any{"error": "tenant_mismatch",
			"pinned_entra_tenant_id": mismatch.Pinned, "offered_entra_tenant_id": mismatch.Got, "account": consent.Account}
		s.Audit(c, actor)
		s.resultPage(c, http.StatusBadRequest, resultPage{Title: "Wrong Microsoft Entra tenant", App: app.Name,
			Message: fmt.Sprintf("tenant_mismatch: this application is pinned to Entra tenant %s, but %s signed in to tenant %s. Nothing was changed. Sign in as an admin of tenant %s, or create a new application for the other tenant.",
				mismatch.Pinned, consent.Account, mismatch.Got, mismatch.Pinned)})
		return
	}
	if err != nil {
		s.Log.ErrorContext(ctx, "oauth callback: save", slog.String("request_id", web.RequestID(c)), slog.Any("error", err))
		s.resultPage(c, http.StatusInternalServerError, resultPage{Title: "Authorization failed", App: app.Name,
			Message: "Something went wrong on our side; it has been logged. Try again from the application."})
		return
	}
	actor.Action = "application.authorized"
	actor.Details = map[string]any{"account": consent.Account, "entra_tenant_id": consent.EntraTenantID, "status": updated.Status}
	s.Audit(c, actor)
	// Started from the portal (this browser holds the session of the admin who clicked
	// Authorize): back to the application's form, where the green check now shows. Started
	// through the API: a page that says so and links to the form.
	appPage := portal.ApplicationPath(app.TenantID, app.ID)
	if s.sessionOf(c, st.AdminID) {
		portal.Redirect(c, appPage+"?done=authorized")
		return
	}
	s.resultPage(c, http.StatusOK, resultPage{Success: true, Title: "Authorized", App: app.Name, Account: consent.Account,
		Home:    s.Deps.PublicURL + appPage,
		Message: "jitaccess may now manage just-in-time accounts in this tenant. Finish the configuration (duration, domain, roles) on the application's page."})
}

// sessionOf reports whether the request carries a live portal session of technician id.
func (s *Callback) sessionOf(c *gin.Context, id string) bool {
	ck, err := c.Cookie(s.sessionCookie)
	if err != nil || ck == "" {
		return false
	}
	_, u, err := s.Deps.Store.Session(c.Request.Context(), ck, s.Deps.SessionIdleTimeout)
	return err == nil && u.ID == id
}

func stateMessage(err error) string {
	switch {
	case errors.Is(err, store.ErrStateExpired):
		return "The sign-in link expired."
	case errors.Is(err, store.ErrStateUsed):
		return "The sign-in link was already used."
	default:
		return "The sign-in link is not one we issued."
	}
}
