package server

import (
	"strconv"

	"github.com/gin-gonic/gin"

	"github.com/jitaccess/jitaccess/access"
)

// The product's rules live in package access (*access.Service, s.svc), which takes an
// access.Actor and returns values or an *access.Error. The JSON API handlers and the portal
// pages here are two thin front ends over it, so a rule exists exactly once.

// actor is the authenticated caller of the request.
func (s *Server) actor(c *gin.Context) access.Actor {
	a := access.Actor{Technician: currentUser(c), ClientIP: c.ClientIP(), RequestID: c.GetString(requestIDKey)}
	if sess, ok := portalSessionOf(c); ok {
		a.SessionHash = sess.idHash
	}
	return a
}

// fail answers an error of a service method: a refusal with its status, anything else as a
// logged 500 without internals.
func (s *Server) fail(c *gin.Context, err error) {
	if p := access.AsError(err); p != nil {
		if p.RetryAfter > 0 {
			c.Header("Retry-After", strconv.Itoa(p.RetryAfter))
		}
		abort(c, statusOf(p), p.Code, p.Message)
		return
	}
	s.internal(c, err)
}
