package entrasim

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
)

// JSON batching (json-batching.md): ≤ 20 requests, unique ids, Content-Type required with a body,
// dependsOn with 424 for failed dependencies, each item throttled on its own.

const maxBatch = 20

type batchItem struct {
	ID        string            `json:"id"`
	Method    string            `json:"method"`
	URL       string            `json:"url"`
	Headers   map[string]string `json:"headers"`
	Body      json.RawMessage   `json:"body"`
	DependsOn []string          `json:"dependsOn"`
}

func (s *Server) batch(gr *graphReq) *gresp {
	ids := gr.ids
	bad := func(msg string) *gresp { return ids.graphError(http.StatusBadRequest, "BadRequest", msg) }
	if ct := strings.ToLower(gr.header.Get("Content-Type")); !strings.HasPrefix(strings.TrimSpace(ct), "application/json") {
		return ids.badJSON()
	}
	var in struct {
		Requests []batchItem `json:"requests"`
	}
	dec := json.NewDecoder(bytes.NewReader(gr.body))
	if err := dec.Decode(&in); err != nil || in.Requests == nil {
		return bad("Invalid batch payload format.")
	}
	if len(in.Requests) == 0 {
		return bad("Invalid batch payload format.")
	}
	if len(in.Requests) > maxBatch {
		return bad(fmt.Sprintf("The number of requests in the batch (%d) exceeds the limit of %d.", len(in.Requests), maxBatch))
	}
	index := map[string]int{}
	for i, it := range in.Requests {
		if it.ID == "" {
			return bad("Invalid batch payload format: every request needs an id.")
		}
		if _, dup := index[it.ID]; dup {
			return bad(fmt.Sprintf("Batch request ids must be unique; id '%s' is used more than once.", it.ID))
		}
		index[it.ID] = i
		switch strings.ToUpper(it.Method) {
		case http.MethodGet, http.MethodPost, http.MethodPatch, http.MethodPut, http.MethodDelete:
		default:
			return bad(fmt.Sprintf("Invalid method '%s' for request '%s'.", it.Method, it.ID))
		}
		if it.URL == "" {
			return bad(fmt.Sprintf("Request '%s' has no url.", it.ID))
		}
		if len(it.Body) > 0 && !isNull(it.Body) && headerValue(it.Headers, "Content-Type") == "" {
			return bad(fmt.Sprintf("Content-Type header must be specified for request '%s' because it has a body.", it.ID))
		}
	}
	for _, it := range in.Requests {
		for _, d := range it.DependsOn {
			if _, ok := index[d]; !ok || d == it.ID {
				return bad(fmt.Sprintf("Request '%s' depends on unknown request '%s'.", it.ID, d))
			}
		}
	}
	order, ok := batchOrder(in.Requests)
	if !ok {
		return bad("The dependsOn relationships in the batch form a cycle.")
	}
	status := map[string]int{}
	var out []any
	for _, i := range order {
		it := in.Requests[i]
		itemIDs := reqIDs{requestID: newGUID(), clientRequestID: headerValue(it.Headers, "client-request-id"), at: s.now()}
		if itemIDs.clientRequestID == "" {
			itemIDs.clientRequestID = itemIDs.requestID
		}
		var g *gresp
		for _, d := range it.DependsOn {
			if status[d] >= 400 {
				g = itemIDs.graphError(http.StatusFailedDependency, "FailedDependency", "The request could not be executed because a request it depends on failed.")
				break
			}
		}
		if g == nil {
			g = s.batchItem(gr, it, itemIDs)
		}
		status[it.ID] = g.status
		resp := map[string]any{"id": it.ID, "status": g.status}
		h := map[string]string{"request-id": itemIDs.requestID, "client-request-id": itemIDs.clientRequestID, "OData-Version": "4.0", "Cache-Control": "no-cache"}
		for k, v := range g.headers {
			h[k] = v
		}
		if g.body != nil && g.status != http.StatusNoContent {
			h["Content-Type"] = graphContentType
			resp["body"] = g.body
		}
		resp["headers"] = h
		out = append(out, resp)
	}
	return &gresp{status: http.StatusOK, body: map[string]any{"responses": out}}
}

// batchOrder executes dependencies first; independent requests run in reverse order, since Graph
// promises no order without dependsOn and callers must not rely on one.
func batchOrder(items []batchItem) ([]int, bool) {
	done := make([]bool, len(items))
	pos := map[string]int{}
	for i, it := range items {
		pos[it.ID] = i
	}
	var order []int
	for len(order) < len(items) {
		picked := -1
		for i := len(items) - 1; i >= 0; i-- {
			if done[i] {
				continue
			}
			ready := true
			for _, d := range items[i].DependsOn {
				if !done[pos[d]] {
					ready = false
				}
			}
			if ready {
				picked = i
				break
			}
		}
		if picked < 0 {
			return nil, false
		}
		done[picked] = true
		order = append(order, picked)
	}
	return order, true
}

func headerValue(h map[string]string, name string) string {
	for k, v := range h {
		if strings.EqualFold(k, name) {
			return v
		}
	}
	return ""
}

// batchItem runs one request of a batch with the batch's credentials.
func (s *Server) batchItem(gr *graphReq, it batchItem, ids reqIDs) *gresp {
	raw := it.URL
	for _, prefix := range []string{"https://graph.microsoft.com/v1.0", gr.base + "/v1.0"} {
		if strings.HasPrefix(raw, prefix) {
			raw = strings.TrimPrefix(raw, prefix)
		}
	}
	if !strings.HasPrefix(raw, "/") {
		raw = "/" + raw
	}
	u, err := url.Parse(raw)
	if err != nil || u.IsAbs() {
		return ids.graphError(http.StatusBadRequest, "BadRequest", "Invalid request URI.")
	}
	segs, ok := splitGraphPath(u.EscapedPath())
	if !ok || (len(segs) > 0 && segs[0] == "$batch") {
		return ids.graphError(http.StatusBadRequest, "BadRequest", "Invalid request URI.")
	}
	h := http.Header{}
	for k, v := range it.Headers {
		h.Set(k, v)
	}
	var body []byte
	if len(it.Body) > 0 && !isNull(it.Body) {
		body = it.Body
	}
	sub := &graphReq{ctx: gr.ctx, method: strings.ToUpper(it.Method), segs: segs, query: u.Query(), header: h,
		body: body, ids: ids, pr: gr.pr, base: gr.base}
	return s.execute(sub)
}
