package portal

import (
	"net/http"
	"net/url"
	"regexp"
	"strings"

	"github.com/gin-gonic/gin"
)

// The browser extension's connect page (/extension/connect): a signed-in member of staff
// approves the extension, which then exchanges the one-time code at /v1/extension/sessions.

// validState keeps the extension's state harmless in a URL and a page.
var validState = regexp.MustCompile(`^[A-Za-z0-9_-]{1,128}$`)

func extensionOrigin(id string) string { return "chrome-extension://" + id }

type connectForm struct {
	ExtensionID, Challenge, Method, State string
}

// connectRequest reads and checks the connect parameters (query on GET, form on POST).
func (s *Portal) connectRequest(c *gin.Context, get func(string) string) (connectForm, bool) {
	f := connectForm{ExtensionID: get("extension_id"), Challenge: get("code_challenge"), Method: get("code_challenge_method"), State: get("state")}
	if !s.ExtensionAllowed(f.ExtensionID) {
		s.Message(c, http.StatusBadRequest, "Unknown extension",
			"This browser extension is not one this jitaccess lets connect. Install the extension your MSP provides.")
		return f, false
	}
	if !validState.MatchString(f.State) {
		s.Message(c, http.StatusBadRequest, "Bad connect link", "The connect link is incomplete; start again from the extension.")
		return f, false
	}
	// Forms on this page may lead to the extension (the 303 after approval).
	c.Header("Content-Security-Policy", strings.Replace(s.csp, "form-action ", "form-action "+extensionOrigin(f.ExtensionID)+" ", 1))
	return f, true
}

func (s *Portal) portalExtensionConnect(c *gin.Context) {
	f, ok := s.connectRequest(c, c.Query)
	if !ok {
		return
	}
	s.Render(c, http.StatusOK, "extension.html", PageData{Title: "Connect the jitaccess extension", Data: f})
}

func (s *Portal) portalExtensionApprove(c *gin.Context) {
	f, ok := s.connectRequest(c, c.PostForm)
	if !ok {
		return
	}
	code, err := s.Svc.ConnectExtension(c.Request.Context(), s.Actor(c), f.ExtensionID, f.Challenge, f.Method)
	if err != nil {
		s.Fail(c, err)
		return
	}
	q := url.Values{"code": {code}, "state": {f.State}}
	Redirect(c, extensionOrigin(f.ExtensionID)+"/connected.html?"+q.Encode())
}
