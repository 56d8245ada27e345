package entrasim

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"time"
)

// Graph's JSON content type (graph-facts.md "Errors, throttling, batching").
const graphContentType = "application/json;odata.metadata=minimal;odata.streaming=true;IEEE754Compatible=false;charset=utf-8"

// gresp is one Graph response, written directly or embedded in a $batch response.
type gresp struct {
	status  int
	headers map[string]string
	body    any // marshalled to JSON; nil means no body
}

type errDetail struct {
	Code    string `json:"code"`
	Target  string `json:"target,omitempty"`
	Message string `json:"message,omitempty"`
}

// reqIDs carries the ids echoed in innerError and response headers.
type reqIDs struct {
	requestID, clientRequestID string
	at                         time.Time
}

// graphError builds Graph's error envelope: {"error":{"code","message","innerError":{date,request-id,client-request-id}}}.
func (ids reqIDs) graphError(status int, code, message string, details ...errDetail) *gresp {
	e := map[string]any{
		"code":    code,
		"message": message, // always present: older SDKs dereference it
		"innerError": map[string]any{
			// innerError.date has no time zone, e.g. 2018-05-08T04:49:55.
			"date":              ids.at.UTC().Format("2006-01-02T15:04:05"),
			"request-id":        ids.requestID,
			"client-request-id": ids.clientRequestID,
		},
	}
	if len(details) > 0 {
		e["details"] = details
	}
	return &gresp{status: status, body: map[string]any{"error": e}}
}

func (ids reqIDs) notFound(id string) *gresp {
	return ids.graphError(http.StatusNotFound, "Request_ResourceNotFound",
		fmt.Sprintf("Resource '%s' does not exist or one of its queried reference-property objects are not present.", id))
}

func (ids reqIDs) badRequest(message string, details ...errDetail) *gresp {
	return ids.graphError(http.StatusBadRequest, "Request_BadRequest", message, details...)
}

func (ids reqIDs) forbidden() *gresp {
	return ids.graphError(http.StatusForbidden, "Authorization_RequestDenied", "Insufficient privileges to complete the operation.")
}

func (ids reqIDs) badJSON() *gresp {
	return ids.graphError(http.StatusBadRequest, "BadRequest",
		"Unable to read JSON request payload. Please ensure Content-Type header is set and payload is of valid JSON format.")
}

func (ids reqIDs) throttled(retryAfter int) *gresp {
	g := ids.graphError(http.StatusTooManyRequests, "TooManyRequests", "Please retry again later.")
	g.headers = map[string]string{"Retry-After": strconv.Itoa(retryAfter)}
	return g
}

func (ids reqIDs) unavailable(retryAfter int) *gresp {
	g := ids.graphError(http.StatusServiceUnavailable, "ServiceUnavailable", "Service is temporarily unavailable. Please try again later.")
	g.headers = map[string]string{"Retry-After": strconv.Itoa(retryAfter)}
	return g
}

// writeGraph writes a Graph response with Graph's headers.
func writeGraph(w http.ResponseWriter, ids reqIDs, g *gresp) {
	h := w.Header()
	h.Set("request-id", ids.requestID)
	h.Set("client-request-id", ids.clientRequestID)
	h.Set("OData-Version", "4.0")
	h.Set("Cache-Control", "no-cache")
	for k, v := range g.headers {
		h.Set(k, v)
	}
	if g.body == nil || g.status == http.StatusNoContent {
		w.WriteHeader(g.status)
		return
	}
	b, err := json.Marshal(g.body)
	if err != nil {
		http.Error(w, "marshal: "+err.Error(), http.StatusInternalServerError)
		return
	}
	h.Set("Content-Type", graphContentType)
	h.Set("Content-Length", strconv.Itoa(len(b)))
	w.WriteHeader(g.status)
	_, _ = w.Write(b)
}

// tokenError is the identity platform's token endpoint error body (graph-facts.md "OAuth 2.0").
type tokenError struct {
	status   int
	err      string
	code     int
	desc     string
	suberror string
}

func writeTokenError(w http.ResponseWriter, at time.Time, e *tokenError) {
	trace, corr := newGUID(), newGUID()
	ts := at.UTC().Format("2006-01-02 15:04:05Z")
	body := map[string]any{
		"error": e.err,
		"error_description": fmt.Sprintf("AADSTS%d: %s Trace ID: %s Correlation ID: %s Timestamp: %s",
			e.code, e.desc, trace, corr, ts),
		"error_codes":    []int{e.code},
		"timestamp":      ts,
		"trace_id":       trace,
		"correlation_id": corr,
		"error_uri":      fmt.Sprintf("https://login.microsoftonline.com/error?code=%d", e.code),
	}
	if e.suberror != "" {
		body["suberror"] = e.suberror
	}
	h := w.Header()
	h.Set("Content-Type", "application/json; charset=utf-8")
	h.Set("Cache-Control", "no-store, no-cache")
	h.Set("Pragma", "no-cache")
	h.Set("x-ms-request-id", trace)
	if e.status == http.StatusUnauthorized {
		h.Set("WWW-Authenticate", `Basic realm="login.microsoftonline.com"`)
	}
	w.WriteHeader(e.status)
	_ = json.NewEncoder(w).Encode(body)
}

func invalidGrant(code int, desc string) *tokenError {
	return &tokenError{status: http.StatusBadRequest, err: "invalid_grant", code: code, desc: desc}
}

func invalidRequest(code int, desc string) *tokenError {
	return &tokenError{status: http.StatusBadRequest, err: "invalid_request", code: code, desc: desc}
}
