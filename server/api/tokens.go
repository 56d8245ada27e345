package api

import (
	"net/http"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/jitaccess/jitaccess/access"
	"github.com/jitaccess/jitaccess/server/web"
	"github.com/jitaccess/jitaccess/store"
)

// tokenRoutes are open to every member of staff: admins manage everyone's tokens, others
// their own.
func (s *API) tokenRoutes(g *gin.RouterGroup) {
	g.GET("/tokens", s.listTokens)
	g.POST("/tokens", s.createToken)
	g.DELETE("/tokens/:token_id", s.deleteToken)
}

func (s *API) listTokens(c *gin.Context) {
	a := s.Actor(c)
	toks, err := s.Svc.Tokens(c.Request.Context(), a, c.Query("technician_id"))
	if err != nil {
		s.Fail(c, err)
		return
	}
	roles, now := s.HolderRoles(c.Request.Context(), a, toks), time.Now()
	out := make([]web.TokenView, len(toks))
	for i, t := range toks {
		out[i] = web.ViewToken(t, roles[t.TechnicianID], now)
	}
	c.JSON(http.StatusOK, List(out, ""))
}

func (s *API) createToken(c *gin.Context) {
	var in access.TokenInput
	if !DecodeJSON(c, &in) {
		return
	}
	a := s.Actor(c)
	tok, plain, err := s.Svc.CreateToken(c.Request.Context(), a, in)
	if err != nil {
		s.Fail(c, err)
		return
	}
	v := web.ViewToken(tok, s.HolderRoles(c.Request.Context(), a, []store.Token{tok})[tok.TechnicianID], time.Now())
	v.Token = plain // shown once; only its hash is stored
	c.Header("Cache-Control", "no-store")
	c.JSON(http.StatusCreated, v)
}

func (s *API) deleteToken(c *gin.Context) {
	if _, err := s.Svc.RevokeToken(c.Request.Context(), s.Actor(c), c.Param("token_id")); err != nil {
		s.Fail(c, err)
		return
	}
	c.Status(http.StatusNoContent)
}
