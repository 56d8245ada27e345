package api

import (
	"bytes"
	"encoding/json"
	"fmt"
	"reflect"
	"strings"
)

// keyProblem is a JSON key that encoding/json would accept but the API must refuse.
type keyProblem struct {
	code, field string
}

func (p *keyProblem) Error() string { return p.code + ": " + p.field }

// checkKeys walks body against the type of dst before it is decoded. encoding/json matches
// field names case-insensitively and lets a repeated key silently win; a security product
// must not guess which of {"roles":…,"Roles":…} the caller meant, so both are refused here.
// Malformed JSON is left for the decoder to report.
func checkKeys(body []byte, dst any) *keyProblem {
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	p, _ := walkValue(dec, reflect.TypeOf(dst), "")
	return p
}

func walkValue(dec *json.Decoder, t reflect.Type, path string) (*keyProblem, error) {
	for t != nil && t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	tok, err := dec.Token()
	if err != nil {
		return nil, err
	}
	delim, ok := tok.(json.Delim)
	if !ok {
		return nil, nil // a scalar
	}
	switch delim {
	case '{':
		fields := map[string]reflect.Type{}
		if t != nil && t.Kind() == reflect.Struct {
			collectFields(t, fields)
		}
		seen := map[string]bool{}
		for dec.More() {
			kt, err := dec.Token()
			if err != nil {
				return nil, err
			}
			key, _ := kt.(string)
			name := joinPath(path, key)
			if seen[key] {
				return &keyProblem{"duplicate_field", name}, nil
			}
			seen[key] = true
			var next reflect.Type
			switch {
			case t != nil && t.Kind() == reflect.Struct:
				ft, ok := fields[key]
				if !ok {
					return &keyProblem{"unknown_field", name}, nil
				}
				next = ft
			case t != nil && t.Kind() == reflect.Map:
				next = t.Elem()
			}
			if p, err := walkValue(dec, next, name); p != nil || err != nil {
				return p, err
			}
		}
	case '[':
		var elem reflect.Type
		if t != nil && (t.Kind() == reflect.Slice || t.Kind() == reflect.Array) {
			elem = t.Elem()
		}
		for i := 0; dec.More(); i++ {
			if p, err := walkValue(dec, elem, fmt.Sprintf("%s[%d]", path, i)); p != nil || err != nil {
				return p, err
			}
		}
	}
	_, err = dec.Token() // the closing delimiter
	return nil, err
}

// collectFields maps the exact JSON names of t's fields (embedded structs flattened) to types.
func collectFields(t reflect.Type, out map[string]reflect.Type) {
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		tag := f.Tag.Get("json")
		if tag == "-" {
			continue
		}
		name, _, _ := strings.Cut(tag, ",")
		if f.Anonymous && name == "" {
			ft := f.Type
			if ft.Kind() == reflect.Pointer {
				ft = ft.Elem()
			}
			if ft.Kind() == reflect.Struct {
				collectFields(ft, out)
				continue
			}
		}
		if !f.IsExported() {
			continue
		}
		if name == "" {
			name = f.Name
		}
		out[name] = f.Type
	}
}

func joinPath(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}
