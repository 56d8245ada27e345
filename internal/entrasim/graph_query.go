package entrasim

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
)

// --- $select / $filter / paging ---

// collection describes a paged Graph collection of a tenant: its query options, the
// properties $filter may name, the permissions that read it, and its objects.
type collection struct {
	path       string // e.g. "users": paging links and @odata.context
	typeName   string // e.g. "user": $select errors
	filterType string // e.g. "User": $filter errors
	filterable []string
	options    []string // accepted query options
	perms      []string
	defaults   []string                         // properties without $select; nil: all
	empty      map[string]any                   // an object with every property, for the context of an empty page
	objects    func(t *tenant) []map[string]any // in a stable order; called under s.mu
}

// listCollection answers GET on a collection: $filter, $select, $top and $skiptoken as Graph.
func (s *Server) listCollection(gr *graphReq, c collection) *gresp {
	if g := checkQueryOptions(gr.query, gr.ids, c.options...); g != nil {
		return g
	}
	var pred filterPred
	if f := gr.query.Get("$filter"); f != "" {
		p, g := parseFilter(gr.ids, f, c.filterType, c.filterable)
		if g != nil {
			return g
		}
		pred = p
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	t := s.tenantLocked(gr)
	if g := gr.authorize(t, c.perms, nil); g != nil {
		return g
	}
	var items []map[string]any
	var sel []string
	for _, full := range c.objects(t) {
		if pred != nil && !pred(getter(full)) {
			continue
		}
		obj, s2, g := project(full, c.propertiesOf(full), gr.query, c.typeName, gr.ids)
		if g != nil {
			return g
		}
		sel = s2
		items = append(items, obj)
	}
	if sel == nil {
		_, sel, _ = project(c.empty, c.propertiesOf(c.empty), gr.query, c.typeName, gr.ids)
	}
	out, g := page(gr, items, 999, c.path)
	if g != nil {
		return g
	}
	out["@odata.context"] = contextFor(c.path, sel, gr.query)
	return &gresp{status: http.StatusOK, body: out}
}

// sortedObjects is the JSON of every object of m, in the order of their ids.
func sortedObjects[T any](m map[string]T, toJSON func(T) map[string]any) []map[string]any {
	ids := make([]string, 0, len(m))
	for id := range m {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	out := make([]map[string]any, len(ids))
	for i, id := range ids {
		out[i] = toJSON(m[id])
	}
	return out
}

func (c collection) propertiesOf(full map[string]any) []string {
	if c.defaults != nil {
		return c.defaults
	}
	return keys(full)
}

// project applies $select (case-insensitive, validated) or the default property set.
func project(full map[string]any, defaults []string, q url.Values, typeName string, ids reqIDs) (map[string]any, []string, *gresp) {
	sel := defaults
	if raw := q.Get("$select"); raw != "" {
		sel = nil
		for _, p := range strings.Split(raw, ",") {
			p = strings.TrimSpace(p)
			found := ""
			for k := range full {
				if strings.EqualFold(k, p) {
					found = k
				}
			}
			if found == "" {
				return nil, nil, ids.graphError(http.StatusBadRequest, "BadRequest",
					fmt.Sprintf("Parsing OData Select and Expand failed: Could not find a property named '%s' on type 'microsoft.graph.%s'.", p, typeName))
			}
			sel = append(sel, found)
		}
	}
	out := map[string]any{}
	for _, k := range sel {
		out[k] = full[k]
	}
	return out, sel, nil
}

func checkQueryOptions(q url.Values, ids reqIDs, allowed ...string) *gresp {
	for k := range q {
		if !strings.HasPrefix(k, "$") {
			continue
		}
		ok := false
		for _, a := range allowed {
			if strings.EqualFold(k, a) {
				ok = true
			}
		}
		if !ok {
			return ids.graphError(http.StatusBadRequest, "Request_UnsupportedQuery", fmt.Sprintf("Query option '%s' is not supported for this request.", k))
		}
	}
	return nil
}

func contextFor(entitySet string, sel []string, q url.Values) string {
	if q.Get("$select") != "" {
		return graphMetadata + entitySet + "(" + strings.Join(sel, ",") + ")"
	}
	return graphMetadata + entitySet
}

// page applies $top/$skiptoken and builds @odata.nextLink on the caller's base URL.
func page(gr *graphReq, items []map[string]any, maxTop int, path string) (map[string]any, *gresp) {
	top := 100
	if raw := gr.query.Get("$top"); raw != "" {
		n, err := strconv.Atoi(raw)
		if err != nil || n < 1 || n > maxTop {
			return nil, gr.ids.badRequest(fmt.Sprintf("Invalid page size specified: '%s'. Must be between 1 and %d inclusive.", raw, maxTop))
		}
		top = n
	}
	offset := 0
	if tok := gr.query.Get("$skiptoken"); tok != "" {
		b, err := base64.RawURLEncoding.DecodeString(tok)
		n, err2 := strconv.Atoi(string(b))
		if err != nil || err2 != nil || n < 0 {
			return nil, gr.ids.graphError(http.StatusBadRequest, "Directory_ExpiredPageToken", "The specified page token value has expired and can no longer be included in your request.")
		}
		offset = n
	}
	if offset > len(items) {
		offset = len(items)
	}
	end := offset + top
	out := map[string]any{}
	if end < len(items) {
		q := url.Values{}
		for k, v := range gr.query {
			q[k] = v
		}
		q.Set("$skiptoken", base64.RawURLEncoding.EncodeToString([]byte(strconv.Itoa(end))))
		out["@odata.nextLink"] = gr.base + "/v1.0/" + path + "?" + q.Encode()
	} else {
		end = len(items)
	}
	page := items[offset:end]
	if page == nil {
		page = []map[string]any{}
	}
	out["value"] = page
	return out, nil
}

// --- JSON body helpers ---

// decodeObject parses a JSON object body, requiring a JSON Content-Type as Graph does.
func decodeObject(gr *graphReq) (map[string]json.RawMessage, *gresp) {
	ct := strings.ToLower(gr.header.Get("Content-Type"))
	if !strings.HasPrefix(strings.TrimSpace(ct), "application/json") {
		return nil, gr.ids.badJSON()
	}
	var m map[string]json.RawMessage
	dec := json.NewDecoder(bytes.NewReader(gr.body))
	if err := dec.Decode(&m); err != nil || m == nil || dec.More() {
		return nil, gr.ids.badJSON()
	}
	return m, nil
}

func unknownProperty(ids reqIDs, name, typ string) *gresp {
	return ids.graphError(http.StatusBadRequest, "BadRequest",
		fmt.Sprintf("The property '%s' does not exist on type 'microsoft.graph.%s'. Make sure to only use property names that are defined by the type or mark the type as open type.", name, typ))
}

func isNull(raw json.RawMessage) bool { return bytes.Equal(bytes.TrimSpace(raw), []byte("null")) }
