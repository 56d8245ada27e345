package server

import (
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/jitaccess/jitaccess/access"
	"github.com/jitaccess/jitaccess/store"
)

// The browser extension's server side: the portal page that approves a connection
// (/extension/connect), the code-for-session exchange, the session's end and the extension's
// configuration under /v1/extension, and CORS on /v1 for the configured extensions only.

// validState keeps the extension's state harmless in a URL and a page.
var validState = regexp.MustCompile(`^[A-Za-z0-9_-]{1,128}$`)

// microsoftAuthority is Entra ID's public cloud; any other authority is the emulator.
const microsoftAuthority = "https://login.microsoftonline.com"

func (s *Server) extensionAllowed(id string) bool {
	return id != "" && slices.Contains(s.deps.ExtensionIDs, id)
}

func extensionOrigin(id string) string { return "chrome-extension://" + id }

// extensionCORS answers CORS for /v1 to the configured extensions' origins only (no
// credentials: the extension sends a bearer token). Any other origin gets no CORS headers.
func (s *Server) extensionCORS(c *gin.Context) {
	origin := c.GetHeader("Origin")
	id, ok := strings.CutPrefix(origin, "chrome-extension://")
	if !strings.HasPrefix(c.Request.URL.Path, "/v1/") || !ok || !s.extensionAllowed(id) {
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

type connectForm struct {
	ExtensionID, Challenge, Method, State string
}

// connectRequest reads and checks the connect parameters (query on GET, form on POST).
func (s *Server) connectRequest(c *gin.Context, get func(string) string) (connectForm, bool) {
	f := connectForm{ExtensionID: get("extension_id"), Challenge: get("code_challenge"), Method: get("code_challenge_method"), State: get("state")}
	if !s.extensionAllowed(f.ExtensionID) {
		s.message(c, http.StatusBadRequest, "Unknown extension",
			"This browser extension is not one this jitaccess lets connect. Install the extension your MSP provides.")
		return f, false
	}
	if !validState.MatchString(f.State) {
		s.message(c, http.StatusBadRequest, "Bad connect link", "The connect link is incomplete; start again from the extension.")
		return f, false
	}
	// Forms on this page may lead to the extension (the 303 after approval).
	c.Header("Content-Security-Policy", strings.Replace(s.portal.csp, "form-action ", "form-action "+extensionOrigin(f.ExtensionID)+" ", 1))
	return f, true
}

func (s *Server) portalExtensionConnect(c *gin.Context) {
	f, ok := s.connectRequest(c, c.Query)
	if !ok {
		return
	}
	s.render(c, http.StatusOK, "extension.html", pageData{Title: "Connect the jitaccess extension", Data: f})
}

func (s *Server) portalExtensionApprove(c *gin.Context) {
	f, ok := s.connectRequest(c, c.PostForm)
	if !ok {
		return
	}
	code, err := s.svc.ConnectExtension(c.Request.Context(), s.actor(c), f.ExtensionID, f.Challenge, f.Method)
	if err != nil {
		s.portalFail(c, err)
		return
	}
	q := url.Values{"code": {code}, "state": {f.State}}
	redirect(c, extensionOrigin(f.ExtensionID)+"/connected.html?"+q.Encode())
}

type extensionSessionInput struct {
	Code         string `json:"code"`
	CodeVerifier string `json:"code_verifier"`
}

// createExtensionSession is POST /v1/extension/sessions (no bearer: the code is the credential).
// Refused codes count as failed authentications of the client address.
func (s *Server) createExtensionSession(c *gin.Context) {
	var in extensionSessionInput
	if !decodeJSON(c, &in) {
		return
	}
	tok, plain, err := s.svc.StartExtensionSession(c.Request.Context(), s.actor(c), in.Code, in.CodeVerifier)
	if p := access.AsError(err); p != nil && p.Code == "invalid_code" {
		s.anonymousAudit(c, store.AuditEvent{ActorID: "anonymous", ActorKind: "anonymous", Action: "auth.failed",
			Target: c.FullPath(), Details: map[string]any{"client_ip": c.ClientIP()}})
	}
	if err != nil {
		s.fail(c, err)
		return
	}
	c.Header("Cache-Control", "no-store")
	c.JSON(http.StatusCreated, gin.H{"id": tok.ID, "token": plain, "expires_at": tok.ExpiresAt})
}

func (s *Server) deleteExtensionSession(c *gin.Context) {
	plain, _ := bearer(c.GetHeader("Authorization"))
	if err := s.svc.EndExtensionSession(c.Request.Context(), s.actor(c), plain); err != nil {
		s.fail(c, err)
		return
	}
	c.Status(http.StatusNoContent)
}

// extensionConfig tells the extension where Microsoft's sign-in is (the configured authority,
// the emulator in dev and tests) and which admin center to open.
func (s *Server) extensionConfig(c *gin.Context) {
	authority := strings.TrimRight(s.deps.EntraAuthority, "/")
	if authority == "" {
		authority = originOf(s.deps.Directory.AuthCodeURL("config", strings.Repeat("v", 43), ""))
	}
	signIn := "https://entra.microsoft.com/"
	if authority != microsoftAuthority {
		signIn = authority + "/_sim/admin-center"
	}
	c.JSON(http.StatusOK, gin.H{"authority": authority, "sign_in_url": signIn})
}

func (s *Server) extensionRoutes(v1 *gin.RouterGroup) {
	v1.DELETE("/extension/sessions/current", s.deleteExtensionSession)
	v1.GET("/extension/config", s.extensionConfig)
}
