package server

import (
	"errors"
	"fmt"
	"log/slog"
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/jitaccess/jitaccess/directory"
	"github.com/jitaccess/jitaccess/store"
)

// authorizeApplication starts the admin consent and answers the Entra sign-in URL.
func (s *Server) authorizeApplication(c *gin.Context) {
	var in struct {
		LoginHint string `json:"login_hint"`
	}
	if !decodeOptionalJSON(c, &in) {
		return
	}
	u, err := s.svc.StartAuthorization(c.Request.Context(), s.actor(c), c.Param("tenant_id"), c.Param("application_id"), in.LoginHint)
	if err != nil {
		s.fail(c, err)
		return
	}
	c.Header("Cache-Control", "no-store")
	c.JSON(http.StatusOK, gin.H{"authorize_url": u})
}

// oauthCallback is where Entra sends the admin's browser back. It consumes the state first
// (so nothing can be replayed), then redeems the code and stores the consent. Every failure
// ends on a page that says what happened and stores nothing.
func (s *Server) oauthCallback(c *gin.Context) {
	ctx := c.Request.Context()
	st, err := s.deps.Store.ConsumeOAuthState(ctx, c.Query("state"))
	if err != nil {
		if !errors.Is(err, store.ErrInvalidState) {
			s.log.ErrorContext(ctx, "oauth callback: state", slog.String("request_id", c.GetString(requestIDKey)), slog.Any("error", err))
			s.resultPage(c, http.StatusInternalServerError, resultPage{Title: "Authorization failed",
				Message: "Something went wrong on our side; it has been logged. Start the authorization again from the application."})
			return
		}
		s.anonymousAudit(c, store.AuditEvent{ActorID: "anonymous", ActorKind: "anonymous", Action: "application.authorization_refused",
			Target: "oauth_callback", Details: map[string]any{"reason": err.Error(), "client_ip": c.ClientIP()}})
		s.resultPage(c, http.StatusBadRequest, resultPage{Title: "This sign-in link cannot be used",
			Message: stateMessage(err) + " Nothing was changed. Start the authorization again from the application."})
		return
	}
	app, err := s.deps.Store.ApplicationByID(ctx, st.ApplicationID)
	if err != nil {
		s.log.ErrorContext(ctx, "oauth callback: application", slog.String("request_id", c.GetString(requestIDKey)), slog.Any("error", err))
		s.resultPage(c, http.StatusNotFound, resultPage{Title: "Authorization failed", Message: "The application no longer exists. Nothing was changed."})
		return
	}
	if s.consentBindingRefused(c, st, app) {
		return
	}
	actor := store.AuditEvent{ActorID: st.AdminID, ActorKind: store.ActorAdmin, TenantID: app.TenantID, Target: app.ID}

	if e := c.Query("error"); e != "" {
		actor.Action = "application.authorization_failed"
		actor.Details = map[string]any{"error": truncate(e, 100)}
		s.audit(c, actor)
		s.resultPage(c, http.StatusBadRequest, resultPage{Title: "Authorization was not granted", App: app.Name,
			Message: entraErrorMessage(e) + " Nothing was changed; you can try again from the application."})
		return
	}
	code := c.Query("code")
	if code == "" {
		actor.Action, actor.Details = "application.authorization_failed", map[string]any{"error": "missing_code"}
		s.audit(c, actor)
		s.resultPage(c, http.StatusBadRequest, resultPage{Title: "Authorization failed", App: app.Name,
			Message: "Microsoft Entra ID did not return an authorization code. Nothing was changed; try again from the application."})
		return
	}
	consent, err := s.deps.Directory.Redeem(ctx, code, st.CodeVerifier)
	if err != nil {
		s.log.WarnContext(ctx, "oauth callback: redeem failed", slog.String("request_id", c.GetString(requestIDKey)),
			slog.String("application_id", app.ID), slog.Any("error", err))
		actor.Action, actor.Details = "application.authorization_failed", map[string]any{"error": "code_redemption_failed"}
		s.audit(c, actor)
		s.resultPage(c, http.StatusBadGateway, resultPage{Title: "Authorization failed", App: app.Name,
			Message: "Microsoft Entra ID refused to complete the sign-in (the code may have expired or been used). Nothing was changed; try again from the application."})
		return
	}
	updated, err := s.deps.Store.SaveAuthorization(ctx, app.ID, consent, st.AdminID)
	var mismatch *directory.TenantMismatchError
	if errors.As(err, &mismatch) {
		// The application is pinned to the tenant of its first consent (code tenant_mismatch).
		actor.Action, actor.Details = "application.authorization_refused", map[string]any{"error": "tenant_mismatch",
			"pinned_entra_tenant_id": mismatch.Pinned, "offered_entra_tenant_id": mismatch.Got, "account": consent.Account}
		s.audit(c, actor)
		s.resultPage(c, http.StatusBadRequest, resultPage{Title: "Wrong Microsoft Entra tenant", App: app.Name,
			Message: fmt.Sprintf("tenant_mismatch: this application is pinned to Entra tenant %s, but %s signed in to tenant %s. Nothing was changed. Sign in as an admin of tenant %s, or create a new application for the other tenant.",
				mismatch.Pinned, consent.Account, mismatch.Got, mismatch.Pinned)})
		return
	}
	if err != nil {
		s.log.ErrorContext(ctx, "oauth callback: save", slog.String("request_id", c.GetString(requestIDKey)), slog.Any("error", err))
		s.resultPage(c, http.StatusInternalServerError, resultPage{Title: "Authorization failed", App: app.Name,
			Message: "Something went wrong on our side; it has been logged. Try again from the application."})
		return
	}
	actor.Action = "application.authorized"
	actor.Details = map[string]any{"account": consent.Account, "entra_tenant_id": consent.EntraTenantID, "status": updated.Status}
	s.audit(c, actor)
	// Started from the portal (this browser holds the session of the admin who clicked
	// Authorize): back to the application's form, where the green check now shows. Started
	// through the API: a page that says so and links to the form.
	appPage := portalApplicationPath(app.TenantID, app.ID)
	if s.sessionOf(c, st.AdminID) {
		redirect(c, appPage+"?done=authorized")
		return
	}
	s.resultPage(c, http.StatusOK, resultPage{Success: true, Title: "Authorized", App: app.Name, Account: consent.Account,
		Home:    s.deps.PublicURL + appPage,
		Message: "jitaccess may now manage just-in-time accounts in this tenant. Finish the configuration (duration, domain, roles) on the application's page."})
}

// sessionOf reports whether the request carries a live portal session of technician id.
func (s *Server) sessionOf(c *gin.Context, id string) bool {
	ck, err := c.Cookie(s.cookieName(sessionCookie))
	if err != nil || ck == "" {
		return false
	}
	_, u, err := s.deps.Store.Session(c.Request.Context(), ck, s.deps.SessionIdleTimeout)
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

// entraErrorMessage explains an OAuth error code returned by Entra in plain words.
func entraErrorMessage(code string) string {
	switch code {
	case "access_denied":
		return "The sign-in was cancelled or consent was declined."
	case "consent_required", "interaction_required":
		return "An administrator must consent to the permissions jitaccess needs."
	default:
		return "Microsoft Entra ID reported an error (" + truncate(code, 100) + ")."
	}
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n]
}
