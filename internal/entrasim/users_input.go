package entrasim

import (
	"encoding/json"
	"fmt"
	"net/http"
	"sort"
	"strings"
	"unicode/utf8"
)

// --- validation (graph-facts.md "Users") ---

const upnLocalChars = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789'.-_!#^~"

// upnSyntaxOK: allowed characters, no '.' right before '@', ≤113 chars, ≤64 before '@', ≤48 after.
func upnSyntaxOK(upn string) bool {
	local, dom, ok := strings.Cut(upn, "@")
	if !ok || local == "" || dom == "" || strings.Contains(dom, "@") {
		return false
	}
	if len(upn) > 113 || len(local) > 64 || len(dom) > 48 {
		return false
	}
	if strings.HasSuffix(local, ".") {
		return false
	}
	for _, c := range local {
		if !strings.ContainsRune(upnLocalChars, c) {
			return false
		}
	}
	return true
}

const passwordSymbols = "@#$%^&*-_!+=[]{}|\\:',.?/`~\"();<> "

// passwordOK: 8–256 characters, at least 3 of lower/upper/digit/symbol, nothing else.
func passwordOK(pw string) bool {
	if !utf8.ValidString(pw) {
		return false
	}
	n := utf8.RuneCountInString(pw)
	if n < 8 || n > 256 {
		return false
	}
	var lower, upper, digit, sym bool
	for _, c := range pw {
		switch {
		case 'a' <= c && c <= 'z':
			lower = true
		case 'A' <= c && c <= 'Z':
			upper = true
		case '0' <= c && c <= '9':
			digit = true
		case strings.ContainsRune(passwordSymbols, c):
			sym = true
		default:
			return false
		}
	}
	k := 0
	for _, b := range []bool{lower, upper, digit, sym} {
		if b {
			k++
		}
	}
	return k >= 3
}

// mailNicknameOK: 1–64 printable ASCII characters without Exchange's forbidden ones.
func mailNicknameOK(n string) bool {
	if n == "" || len(n) > 64 || strings.HasPrefix(n, ".") || strings.HasSuffix(n, ".") {
		return false
	}
	for _, c := range n {
		if c <= ' ' || c > '~' || strings.ContainsRune("@()\\[]\";:<>,", c) {
			return false
		}
	}
	return true
}

const (
	msgDupUPN       = "Another object with the same value for property userPrincipalName already exists."
	msgBadDomain    = "The domain portion of the userPrincipalName property is invalid. You must use one of the verified domain names in your organization."
	msgBadUPN       = "Property userPrincipalName is invalid."
	msgWeakPassword = "The specified password does not comply with password complexity requirements. Please provide a different password."
)

func invalidValue(ids reqIDs, prop string) *gresp {
	return ids.badRequest(fmt.Sprintf("Invalid value specified for property '%s' of resource 'User'.", prop))
}

type userInput struct {
	props      map[string]json.RawMessage // simple properties to set (null clears)
	upn        *string
	display    *string
	nick       *string
	enabled    *bool
	password   *string
	forceChg   *bool
	hasProfile bool
}

// parseUserBody validates property names and JSON types of a user create/update body.
func parseUserBody(ids reqIDs, m map[string]json.RawMessage) (*userInput, *gresp) {
	in := &userInput{props: map[string]json.RawMessage{}}
	schema := userProps()
	names := make([]string, 0, len(m))
	for k := range m {
		names = append(names, k)
	}
	sort.Strings(names)
	for _, k := range names {
		raw := m[k]
		if k == "@odata.type" {
			var t string
			if json.Unmarshal(raw, &t) != nil || t != "#microsoft.graph.user" {
				return nil, ids.graphError(http.StatusBadRequest, "BadRequest", "A type named '"+strings.Trim(string(raw), `"`)+"' could not be resolved by the model. When a model is available, each type name must resolve to a valid type.")
			}
			continue
		}
		kind, ok := schema[k]
		if !ok {
			return nil, unknownProperty(ids, k, "user")
		}
		switch kind {
		case kReadOnly:
			return nil, ids.badRequest(fmt.Sprintf("Property '%s' is read-only and cannot be set.", k))
		case kString:
			var v *string
			if json.Unmarshal(raw, &v) != nil {
				return nil, invalidValue(ids, k)
			}
			in.props[k] = raw
		case kStrings:
			var v []string
			if json.Unmarshal(raw, &v) != nil {
				return nil, invalidValue(ids, k)
			}
			in.props[k] = raw
		case kSpecial:
			switch k {
			case "accountEnabled":
				var v *bool
				if json.Unmarshal(raw, &v) != nil || v == nil {
					return nil, invalidValue(ids, k)
				}
				in.enabled = v
			case "userPrincipalName", "displayName", "mailNickname":
				var v *string
				if json.Unmarshal(raw, &v) != nil || v == nil {
					return nil, invalidValue(ids, k)
				}
				switch k {
				case "userPrincipalName":
					in.upn = v
				case "displayName":
					in.display = v
				default:
					in.nick = v
				}
			case "passwordProfile":
				if isNull(raw) {
					continue // treated as absent
				}
				var pp map[string]json.RawMessage
				if json.Unmarshal(raw, &pp) != nil || pp == nil {
					return nil, invalidValue(ids, k)
				}
				in.hasProfile = true
				for pk, pv := range pp {
					switch pk {
					case "@odata.type":
						var t string
						if json.Unmarshal(pv, &t) != nil || t != "#microsoft.graph.passwordProfile" {
							return nil, invalidValue(ids, k)
						}
					case "password":
						var v *string
						if json.Unmarshal(pv, &v) != nil {
							return nil, invalidValue(ids, k)
						}
						in.password = v
					case "forceChangePasswordNextSignIn", "forceChangePasswordNextSignInWithMfa":
						var v *bool
						if json.Unmarshal(pv, &v) != nil {
							return nil, invalidValue(ids, k)
						}
						if pk == "forceChangePasswordNextSignIn" {
							in.forceChg = v
						}
					default:
						return nil, unknownProperty(ids, pk, "passwordProfile")
					}
				}
			}
		}
	}
	return in, nil
}

// checkUPN applies the UPN rules for a tenant; self is the user being updated (or nil).
func checkUPN(ids reqIDs, t *tenant, upn string, self *user, immutableID bool) *gresp {
	if !upnSyntaxOK(upn) {
		return ids.badRequest(msgBadUPN, errDetail{Code: "InvalidValue", Target: "userPrincipalName"})
	}
	_, dom, _ := strings.Cut(upn, "@")
	d := t.domain(dom)
	if d == nil || !d.IsVerified {
		return ids.badRequest(msgBadDomain)
	}
	if d.Federated && !immutableID {
		// A cloud user in a federated domain needs onPremisesImmutableId (user resource, onPremisesImmutableId).
		return ids.badRequest("Property onPremisesImmutableId is required when creating a user in a federated domain.",
			errDetail{Code: "InvalidValue", Target: "onPremisesImmutableId"})
	}
	if o := t.userByUPN(upn); o != nil && o != self {
		return ids.badRequest(msgDupUPN, errDetail{Target: "userPrincipalName", Code: "ObjectConflict"})
	}
	return nil
}

func (in *userInput) hasImmutableID(u *user) bool {
	if raw, ok := in.props["onPremisesImmutableId"]; ok {
		return !isNull(raw)
	}
	return u != nil && u.propString("onPremisesImmutableId") != ""
}
