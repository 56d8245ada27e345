package entrasim

import (
	"fmt"
	"net/http"
	"strings"
)

// A small OData $filter subset: eq, ne, in, startswith(), and, or, parentheses.

type filterPred func(get func(string) (any, bool)) bool

type ftok struct {
	kind string // ident, str, lit, (, ), ,
	val  string
}

func lexFilter(s string) ([]ftok, bool) {
	var out []ftok
	for i := 0; i < len(s); {
		c := s[i]
		switch {
		case c == ' ' || c == '\t':
			i++
		case c == '(' || c == ')' || c == ',':
			out = append(out, ftok{string(c), string(c)})
			i++
		case c == '\'':
			var b strings.Builder
			i++
			for {
				if i >= len(s) {
					return nil, false
				}
				if s[i] == '\'' {
					if i+1 < len(s) && s[i+1] == '\'' {
						b.WriteByte('\'')
						i += 2
						continue
					}
					i++
					break
				}
				b.WriteByte(s[i])
				i++
			}
			out = append(out, ftok{"str", b.String()})
		default:
			j := i
			for j < len(s) && !strings.ContainsRune(" \t(),'", rune(s[j])) {
				j++
			}
			out = append(out, ftok{"ident", s[i:j]})
			i = j
		}
	}
	return out, true
}

type fparser struct {
	toks     []ftok
	pos      int
	allowed  []string
	resource string
	badProp  string
}

func (p *fparser) peek() ftok {
	if p.pos < len(p.toks) {
		return p.toks[p.pos]
	}
	return ftok{}
}
func (p *fparser) next() ftok { t := p.peek(); p.pos++; return t }
func (p *fparser) isWord(w string) bool {
	t := p.peek()
	return t.kind == "ident" && strings.EqualFold(t.val, w)
}

func (p *fparser) prop(name string) (string, bool) {
	for _, a := range p.allowed {
		if strings.EqualFold(a, name) {
			return a, true
		}
	}
	p.badProp = name
	return "", false
}

func (p *fparser) value() (any, bool) {
	t := p.next()
	switch {
	case t.kind == "str":
		return t.val, true
	case t.kind == "ident" && strings.EqualFold(t.val, "true"):
		return true, true
	case t.kind == "ident" && strings.EqualFold(t.val, "false"):
		return false, true
	case t.kind == "ident" && strings.EqualFold(t.val, "null"):
		return nil, true
	}
	return nil, false
}

func equalValue(a, b any) bool {
	as, aok := a.(string)
	bs, bok := b.(string)
	if aok && bok {
		return strings.EqualFold(as, bs)
	}
	return a == b
}

func (p *fparser) or() (filterPred, bool) {
	l, ok := p.and()
	for ok && p.isWord("or") {
		p.next()
		r, ok2 := p.and()
		if !ok2 {
			return nil, false
		}
		l0 := l
		l = func(g func(string) (any, bool)) bool { return l0(g) || r(g) }
	}
	return l, ok
}

func (p *fparser) and() (filterPred, bool) {
	l, ok := p.atom()
	for ok && p.isWord("and") {
		p.next()
		r, ok2 := p.atom()
		if !ok2 {
			return nil, false
		}
		l0 := l
		l = func(g func(string) (any, bool)) bool { return l0(g) && r(g) }
	}
	return l, ok
}

func (p *fparser) atom() (filterPred, bool) {
	t := p.next()
	if t.kind == "(" {
		e, ok := p.or()
		if !ok || p.next().kind != ")" {
			return nil, false
		}
		return e, true
	}
	if t.kind != "ident" {
		return nil, false
	}
	if strings.EqualFold(t.val, "startswith") {
		if p.next().kind != "(" {
			return nil, false
		}
		name, ok := p.prop(p.next().val)
		if !ok || p.next().kind != "," {
			return nil, false
		}
		v := p.next()
		if v.kind != "str" || p.next().kind != ")" {
			return nil, false
		}
		return func(g func(string) (any, bool)) bool {
			x, _ := g(name)
			s, _ := x.(string)
			return strings.HasPrefix(strings.ToLower(s), strings.ToLower(v.val))
		}, true
	}
	name, ok := p.prop(t.val)
	if !ok {
		return nil, false
	}
	op := p.next()
	if op.kind != "ident" {
		return nil, false
	}
	switch strings.ToLower(op.val) {
	case "eq", "ne":
		v, ok := p.value()
		if !ok {
			return nil, false
		}
		neg := strings.EqualFold(op.val, "ne")
		return func(g func(string) (any, bool)) bool {
			x, _ := g(name)
			return equalValue(x, v) != neg
		}, true
	case "in":
		if p.next().kind != "(" {
			return nil, false
		}
		var vals []any
		for {
			v, ok := p.value()
			if !ok {
				return nil, false
			}
			vals = append(vals, v)
			n := p.next()
			if n.kind == ")" {
				break
			}
			if n.kind != "," {
				return nil, false
			}
		}
		return func(g func(string) (any, bool)) bool {
			x, _ := g(name)
			for _, v := range vals {
				if equalValue(x, v) {
					return true
				}
			}
			return false
		}, true
	}
	return nil, false
}

func parseFilter(ids reqIDs, expr, resource string, allowed []string) (filterPred, *gresp) {
	toks, ok := lexFilter(expr)
	p := &fparser{toks: toks, allowed: allowed, resource: resource}
	var pred filterPred
	if ok {
		pred, ok = p.or()
	}
	if ok && p.pos == len(p.toks) {
		return pred, nil
	}
	if p.badProp != "" {
		return nil, ids.graphError(http.StatusBadRequest, "Request_UnsupportedQuery",
			fmt.Sprintf("Unsupported or invalid query filter clause specified for property '%s' of resource '%s'.", p.badProp, resource))
	}
	return nil, ids.graphError(http.StatusBadRequest, "BadRequest", "Invalid filter clause: syntax error in '"+expr+"'.")
}
