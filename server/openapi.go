package server

import (
	_ "embed"

	"github.com/gin-gonic/gin"
)

// openAPIDocument is the hand-written OpenAPI 3 description of the API. A test checks that
// it lists exactly the routes the server registers.
//
//go:embed openapi.json
var openAPIDocument []byte

func (s *Server) openAPI(c *gin.Context) {
	c.Data(200, "application/json", openAPIDocument)
}
