package admin

import (
	"github.com/gin-gonic/gin"

	"github.com/jitaccess/jitaccess/policy"
	"github.com/jitaccess/jitaccess/store"
)

// applicationPolicyView is an application with its effective policy (SPEC §10).
type applicationPolicyView struct {
	applicationView
	Policy      *policy.Policy `json:"policy"`
	PolicySaved bool           `json:"policy_saved"`
}

// viewApplicationPolicy adds the application's effective policy (the saved one or the
// default of its roles) to its view; a failure to read it leaves policy null.
func (s *API) viewApplicationPolicy(c *gin.Context, a store.Application) applicationPolicyView {
	v := applicationPolicyView{applicationView: viewApplication(a)}
	if p, saved, err := s.Deps.Store.ApplicationPolicy(c.Request.Context(), a.ID); err == nil {
		v.Policy, v.PolicySaved = &p, saved
	} else {
		s.Log.WarnContext(c.Request.Context(), "read application policy", "application_id", a.ID, "error", err)
	}
	return v
}
