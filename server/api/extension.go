package api

import (
	"net/http"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/jitaccess/jitaccess/access"
	"github.com/jitaccess/jitaccess/server/web"
	"github.com/jitaccess/jitaccess/store"
)

// The browser extension's server side: the portal page that approves a connection
// (/extension/connect), the code-for-session exchange, the session's end and the extension's
// configuration under /v1/extension, and CORS on /v1 for the configured extensions only.

// microsoftAuthority is Entra ID's public cloud; any other authority is the emulator.
const microsoftAuthority = "https://login.microsoftonline.com"

// ExtensionCORS answers CORS for /v1 to the configured extensions' origins only (no
// credentials: the extension sends a bearer token). Any other origin gets no CORS headers.
func (s *API) ExtensionCORS(c *gin.Context) {
	origin := c.GetHeader("Origin")
	id, ok := strings.CutPrefix(origin, "chrome-extension://")
	if !strings.HasPrefix(c.Request.URL.Path, "/v1/") || !ok || !s.ExtensionAllowed(id) {
		c.Next()
		return
	}
	h := c.Writer.Header()
	h.Set("Access-Control-Allow-Origin", origin)
	h.Add("Vary", "Origin")
	if c.Request.Method == http.MethodOptions && c.GetHeader("Access-Control-Request-Method") != "" {
		h.Set("Access-Control-Allow-Methods", "GET, POST, PATCH, DELETE")
		h.Set("Access-Control-Allow-Headers", "Authorization, Content-Type, Accept")
		h.Set("Access-Control-Max-Age", "600")
		c.AbortWithStatus(http.StatusNoContent)
		return
	}
	h.Set("Access-Control-Expose-Headers", "Retry-After, X-Request-Id")
	c.Next()
}

type extensionSessionInput struct {
	Code         string `json:"code"`
	CodeVerifier string `json:"code_verifier"`
}

// createExtensionSession is POST /v1/extension/sessions (no bearer: the code is the credential).
// Refused codes count as failed authentications of the client address.
func (s *API) createExtensionSession(c *gin.Context) {
	var in extensionSessionInput
	if !DecodeJSON(c, &in) {
		return
	}
	tok, plain, err := s.Svc.StartExtensionSession(c.Request.Context(), s.Actor(c), in.Code, in.CodeVerifier)
	if p := access.AsError(err); p != nil && p.Code == "invalid_code" {
		s.AnonymousAudit(c, store.AuditEvent{ActorID: "anonymous", ActorKind: "anonymous", Action: "auth.failed",
			Target: c.FullPath(), Details: map[string]any{"client_ip": c.ClientIP()}})
	}
	if err != nil {
		s.Fail(c, err)
		return
	}
	c.Header("Cache-Control", "no-store")
	c.JSON(http.StatusCreated, gin.H{"id": tok.ID, "token": plain, "expires_at": tok.ExpiresAt})
}

func (s *API) deleteExtensionSession(c *gin.Context) {
	plain, _ := bearer(c.GetHeader("Authorization"))
	if err := s.Svc.EndExtensionSession(c.Request.Context(), s.Actor(c), plain); err != nil {
		s.Fail(c, err)
		return
	}
	c.Status(http.StatusNoContent)
}

// extensionConfig tells the extension where Microsoft's sign-in is (the configured authority,
// the emulator in dev and tests) and which admin center to open.
func (s *API) extensionConfig(c *gin.Context) {
	authority := strings.TrimRight(s.Deps.EntraAuthority, "/")
	if authority == "" {
		authority = web.OriginOf(s.Deps.Directory.AuthCodeURL("config", strings.Repeat("v", 43), ""))
	}
	signIn := "https://entra.microsoft.com/"
	if authority != microsoftAuthority {
		signIn = authority + "/_sim/admin-center"
	}
	c.JSON(http.StatusOK, gin.H{"authority": authority, "sign_in_url": signIn})
}

func (s *API) extensionRoutes(v1 *gin.RouterGroup) {
	v1.DELETE("/extension/sessions/current", s.deleteExtensionSession)
	v1.GET("/extension/config", s.extensionConfig)
}
