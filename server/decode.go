package server

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/jitaccess/jitaccess/store"
)

// decodeJSON reads the body into dst strictly: unknown fields, wrong types, trailing data
// and oversize bodies are refused with an answer naming the problem. It reports whether
// the handler may go on.
func decodeJSON(c *gin.Context, dst any) bool {
	body, err := io.ReadAll(c.Request.Body)
	var maxErr *http.MaxBytesError
	if errors.As(err, &maxErr) {
		abort(c, http.StatusRequestEntityTooLarge, "body_too_large", fmt.Sprintf("The request body exceeds %d bytes.", MaxBodyBytes))
		return false
	}
	if err != nil {
		abort(c, http.StatusBadRequest, "invalid_json", "The request body could not be read.")
		return false
	}
	if p := checkKeys(body, dst); p != nil {
		msg := fmt.Sprintf("Unknown field %q (field names are case-sensitive).", p.field)
		if p.code == "duplicate_field" {
			msg = fmt.Sprintf("Field %q appears more than once.", p.field)
		}
		abort(c, http.StatusBadRequest, p.code, msg)
		return false
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	err = dec.Decode(dst)
	if err == nil {
		if dec.More() || dec.Decode(&struct{}{}) != io.EOF {
			abort(c, http.StatusBadRequest, "invalid_json", "The request body must hold exactly one JSON object.")
			return false
		}
		return true
	}
	var (
		typeErr   *json.UnmarshalTypeError
		syntaxErr *json.SyntaxError
	)
	switch {
	case errors.As(err, &maxErr):
		abort(c, http.StatusRequestEntityTooLarge, "body_too_large", fmt.Sprintf("The request body exceeds %d bytes.", MaxBodyBytes))
	case errors.Is(err, io.EOF):
		abort(c, http.StatusBadRequest, "invalid_json", "A JSON request body is required.")
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		field := strings.Trim(strings.TrimPrefix(err.Error(), "json: unknown field "), `"`)
		abort(c, http.StatusBadRequest, "unknown_field", fmt.Sprintf("Unknown field %q.", field))
	case errors.As(err, &typeErr):
		field := typeErr.Field
		if field == "" {
			abort(c, http.StatusBadRequest, "invalid_json", "The request body must be a JSON object.")
			return false
		}
		abort(c, http.StatusBadRequest, "invalid_field", fmt.Sprintf("Field %q must be a %s.", field, jsonKind(typeErr.Type.Kind().String())))
	case errors.As(err, &syntaxErr), errors.Is(err, io.ErrUnexpectedEOF):
		abort(c, http.StatusBadRequest, "invalid_json", "The request body is not valid JSON.")
	default:
		abort(c, http.StatusBadRequest, "invalid_json", "The request body could not be read as JSON.")
	}
	return false
}

// decodeOptionalJSON is decodeJSON for endpoints whose body may be absent.
func decodeOptionalJSON(c *gin.Context, dst any) bool {
	if !hasBody(c.Request) {
		return true
	}
	return decodeJSON(c, dst)
}

func jsonKind(goKind string) string {
	switch goKind {
	case "string":
		return "string"
	case "slice", "array":
		return "list"
	case "struct", "map":
		return "object"
	case "bool":
		return "boolean"
	default:
		return "number"
	}
}

// badField answers 400 naming a field.
func badField(c *gin.Context, field, message string) {
	abort(c, http.StatusBadRequest, "invalid_field", fmt.Sprintf("%s: %s", field, message))
}

// page reads ?limit= and ?cursor= (page_token is accepted as an alias).
func page(c *gin.Context) (store.Page, bool) {
	p := store.Page{Cursor: c.Query("cursor")}
	if p.Cursor == "" {
		p.Cursor = c.Query("page_token")
	}
	if v := c.Query("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > store.MaxLimit {
			badField(c, "limit", fmt.Sprintf("must be a whole number from 1 to %d.", store.MaxLimit))
			return p, false
		}
		p.Limit = n
	}
	return p, true
}

// listResponse is the shape of every list: {"items":[...],"next_cursor":...}.
type listResponse[T any] struct {
	Items      []T     `json:"items"`
	NextCursor *string `json:"next_cursor"`
}

func list[T any](items []T, next string) listResponse[T] {
	if items == nil {
		items = []T{}
	}
	r := listResponse[T]{Items: items}
	if next != "" {
		r.NextCursor = &next
	}
	return r
}

// listError answers errors of a store list call (a bad cursor is the caller's fault).
func (s *Server) listError(c *gin.Context, err error) {
	if errors.Is(err, store.ErrBadCursor) {
		badField(c, "cursor", "is not a cursor returned by this list.")
		return
	}
	if errors.Is(err, store.ErrNotFound) {
		notFoundAnswer(c, "tenant")
		return
	}
	s.internal(c, err)
}

func notFoundAnswer(c *gin.Context, what string) {
	abort(c, http.StatusNotFound, "not_found", fmt.Sprintf("The %s does not exist.", what))
}
