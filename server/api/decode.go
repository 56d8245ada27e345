package api

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

	"github.com/jitaccess/jitaccess/server/web"
	"github.com/jitaccess/jitaccess/store"
)

// DecodeJSON reads the body into dst strictly: unknown fields, wrong types, trailing data
// and oversize bodies are refused with an answer naming the problem. It reports whether
// the handler may go on.
func DecodeJSON(c *gin.Context, dst any) bool {
	body, err := io.ReadAll(c.Request.Body)
	var maxErr *http.MaxBytesError
	if errors.As(err, &maxErr) {
		web.Abort(c, http.StatusRequestEntityTooLarge, "body_too_large", fmt.Sprintf("The request body exceeds %d bytes.", web.MaxBodyBytes))
		return false
	}
	if err != nil {
		web.Abort(c, http.StatusBadRequest, "invalid_json", "The request body could not be read.")
		return false
	}
	if p := checkKeys(body, dst); p != nil {
		msg := fmt.Sprintf("Unknown field %q (field names are case-sensitive).", p.field)
		if p.code == "duplicate_field" {
			msg = fmt.Sprintf("Field %q appears more than once.", p.field)
		}
		web.Abort(c, http.StatusBadRequest, p.code, msg)
		return false
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	err = dec.Decode(dst)
	if err == nil {
		if dec.More() || dec.Decode(&struct{}{}) != io.EOF {
			web.Abort(c, http.StatusBadRequest, "invalid_json", "The request body must hold exactly one JSON object.")
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
		web.Abort(c, http.StatusRequestEntityTooLarge, "body_too_large", fmt.Sprintf("The request body exceeds %d bytes.", web.MaxBodyBytes))
	case errors.Is(err, io.EOF):
		web.Abort(c, http.StatusBadRequest, "invalid_json", "A JSON request body is required.")
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		field := strings.Trim(strings.TrimPrefix(err.Error(), "json: unknown field "), `"`)
		web.Abort(c, http.StatusBadRequest, "unknown_field", fmt.Sprintf("Unknown field %q.", field))
	case errors.As(err, &typeErr):
		field := typeErr.Field
		if field == "" {
			web.Abort(c, http.StatusBadRequest, "invalid_json", "The request body must be a JSON object.")
			return false
		}
		web.Abort(c, http.StatusBadRequest, "invalid_field", fmt.Sprintf("Field %q must be a %s.", field, jsonKind(typeErr.Type.Kind().String())))
	case errors.As(err, &syntaxErr), errors.Is(err, io.ErrUnexpectedEOF):
		web.Abort(c, http.StatusBadRequest, "invalid_json", "The request body is not valid JSON.")
	default:
		web.Abort(c, http.StatusBadRequest, "invalid_json", "The request body could not be read as JSON.")
	}
	return false
}

// DecodeOptionalJSON is DecodeJSON for endpoints whose body may be absent.
func DecodeOptionalJSON(c *gin.Context, dst any) bool {
	if !hasBody(c.Request) {
		return true
	}
	return DecodeJSON(c, dst)
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

// BadField answers 400 naming a field.
func BadField(c *gin.Context, field, message string) {
	web.Abort(c, http.StatusBadRequest, "invalid_field", fmt.Sprintf("%s: %s", field, message))
}

// Page reads ?limit= and ?cursor= (page_token is accepted as an alias).
func Page(c *gin.Context) (store.Page, bool) {
	p := store.Page{Cursor: c.Query("cursor")}
	if p.Cursor == "" {
		p.Cursor = c.Query("page_token")
	}
	if v := c.Query("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > store.MaxLimit {
			BadField(c, "limit", fmt.Sprintf("must be a whole number from 1 to %d.", store.MaxLimit))
			return p, false
		}
		p.Limit = n
	}
	return p, true
}

// ListResponse is the shape of every list: {"items":[...],"next_cursor":...}.
type ListResponse[T any] struct {
	Items      []T     `json:"items"`
	NextCursor *string `json:"next_cursor"`
}

// List is one page of items with the cursor of the next ("" for the last).
func List[T any](items []T, next string) ListResponse[T] {
	if items == nil {
		items = []T{}
	}
	r := ListResponse[T]{Items: items}
	if next != "" {
		r.NextCursor = &next
	}
	return r
}

// ListError answers errors of a store list call (a bad cursor is the caller's fault).
func (s *API) ListError(c *gin.Context, err error) {
	if errors.Is(err, store.ErrBadCursor) {
		BadField(c, "cursor", "is not a cursor returned by this list.")
		return
	}
	if errors.Is(err, store.ErrNotFound) {
		NotFound(c, "tenant")
		return
	}
	s.Internal(c, err)
}

// NotFound answers 404 for a missing what.
func NotFound(c *gin.Context, what string) {
	web.Abort(c, http.StatusNotFound, "not_found", fmt.Sprintf("The %s does not exist.", what))
}
