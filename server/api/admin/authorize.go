package admin

import (
	"net/http"

	"github.com/gin-gonic/gin"
	"github.com/jitaccess/jitaccess/server/api"
)

// authorizeApplication starts the admin consent and answers the Entra sign-in URL.
func (s *API) authorizeApplication(c *gin.Context) {
	var in struct {
		LoginHint string `json:"login_hint"`
	}
	if !api.DecodeOptionalJSON(c, &in) {
		return
	}
	u, err := s.Svc.StartAuthorization(c.Request.Context(), s.Actor(c), c.Param("tenant_id"), c.Param("application_id"), in.LoginHint)
	if err != nil {
		s.Fail(c, err)
		return
	}
	c.Header("Cache-Control", "no-store")
	c.JSON(http.StatusOK, gin.H{"authorize_url": u})
}
