package directory

import (
	"crypto/sha256"
	"encoding/base32"
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"
)

// UPN rules (Entra SSPR policy page): characters A-Z a-z 0-9 ' . - _ ! # ^ ~, no '.' right
// before '@', at most 113 characters, 64 before '@' and 48 after.
const (
	upnPrefix        = "jit-"
	maxUPNLocal      = 64
	maxUPNDomain     = 48
	maxUPN           = 113
	upnHashLen       = 12 // base32 characters = 60 bits of SHA-256
	upnHashMarker    = '~'
	maxDisplayName   = 256 // Graph's limit for user.displayName
	maxMailNickname  = 64
	upnLocalSpecials = "'.-_!#^~"
)

// ErrInvalidUPN is wrapped by the errors of BuildUPN, ValidUPN and MailNickname.
var ErrInvalidUPN = errors.New("invalid user principal name")

// BuildUPN returns the user principal name of a technician's just-in-time account in the
// given domain of a customer tenant. The name is stable (the same e-mail always gives the
// same UPN, case-insensitively), always valid for Entra, and different e-mails never share
// one.
//
// Readable form: "jit-" + local part + "_" + mail domain, e.g. alice@msp.example in
// contoso.com → "jit-alice_msp.example@contoso.com". When the e-mail has characters Entra
// refuses, or the name would be too long, the readable part is sanitised and shortened and
// "~" plus a hash of the full lowercase e-mail is appended:
// "jit-a-very-long-name_msp.example~k5x2…@contoso.com". Readable names never contain "~"
// and their mail domain never contains "_", so a readable name decodes to exactly one
// e-mail, and a hashed name can never equal a readable one.
func BuildUPN(email, domain string) (string, error) {
	norm, err := normalizeEmail(email)
	if err != nil {
		return "", err
	}
	dom, err := normalizeUPNDomain(domain)
	if err != nil {
		return "", err
	}
	at := strings.LastIndexByte(norm, '@')
	local, mailDomain := norm[:at], norm[at+1:]

	if readable := upnPrefix + local + "_" + mailDomain; readableOK(local, mailDomain, readable) {
		return readable + "@" + dom, nil
	}

	sum := sha256.Sum256([]byte(norm))
	hash := strings.ToLower(base32.StdEncoding.WithPadding(base32.NoPadding).EncodeToString(sum[:]))[:upnHashLen]
	room := maxUPNLocal - len(upnPrefix) - 1 - upnHashLen
	head := sanitizeUPNPart(local + "_" + mailDomain)
	if len(head) > room {
		head = head[:room]
	}
	upn := upnPrefix + head + string(upnHashMarker) + hash + "@" + dom
	if err := ValidUPN(upn); err != nil { // cannot happen; keep the promise checked
		return "", fmt.Errorf("building the UPN for %q: %w", email, err)
	}
	return upn, nil
}

// readableOK reports whether "jit-<local>_<mailDomain>" may be used as it is.
func readableOK(local, mailDomain, readable string) bool {
	if len(readable) > maxUPNLocal || strings.Contains(readable, "..") || strings.HasSuffix(readable, ".") {
		return false
	}
	for i := 0; i < len(local); i++ {
		c := local[i]
		if c == upnHashMarker || !isUPNLocalChar(c) {
			return false
		}
	}
	for i := 0; i < len(mailDomain); i++ {
		c := mailDomain[i]
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '.' || c == '-') {
			return false
		}
	}
	return true
}

// sanitizeUPNPart maps every character Entra refuses (and the hash marker) to '-', and
// collapses runs of '.' and '-' so the result has no "..".
func sanitizeUPNPart(s string) string {
	var b strings.Builder
	var last byte
	for _, r := range s {
		c := byte('-')
		if r < utf8.RuneSelf && isUPNLocalChar(byte(r)) && byte(r) != upnHashMarker {
			c = byte(r)
		}
		if (c == '.' || c == '-') && c == last {
			continue
		}
		b.WriteByte(c)
		last = c
	}
	return b.String()
}

func isUPNLocalChar(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' ||
		strings.IndexByte(upnLocalSpecials, c) >= 0
}

// normalizeEmail trims and lowercases an e-mail address and checks it has a non-empty
// local part and domain around its last '@'. BuildUPN is a function of this value.
func normalizeEmail(email string) (string, error) {
	if !utf8.ValidString(email) {
		return "", fmt.Errorf("%w: the e-mail address is not valid UTF-8", ErrInvalidUPN)
	}
	norm := strings.ToLower(strings.TrimSpace(email))
	at := strings.LastIndexByte(norm, '@')
	switch {
	case norm == "":
		return "", fmt.Errorf("%w: the e-mail address is empty", ErrInvalidUPN)
	case at < 0:
		return "", fmt.Errorf("%w: the e-mail address %q has no '@'", ErrInvalidUPN, email)
	case at == 0:
		return "", fmt.Errorf("%w: the e-mail address %q has nothing before '@'", ErrInvalidUPN, email)
	case at == len(norm)-1:
		return "", fmt.Errorf("%w: the e-mail address %q has no domain after '@'", ErrInvalidUPN, email)
	}
	return norm, nil
}

// normalizeUPNDomain lowercases a tenant domain and checks it is a DNS name of at most 48
// characters, as Entra requires for the part of a UPN after '@'.
func normalizeUPNDomain(domain string) (string, error) {
	d := strings.ToLower(strings.TrimSpace(domain))
	if d == "" {
		return "", fmt.Errorf("%w: the tenant domain is empty", ErrInvalidUPN)
	}
	if len(d) > maxUPNDomain {
		return "", fmt.Errorf("%w: the tenant domain %q is longer than %d characters", ErrInvalidUPN, domain, maxUPNDomain)
	}
	for _, label := range strings.Split(d, ".") {
		if label == "" {
			return "", fmt.Errorf("%w: the tenant domain %q has an empty label", ErrInvalidUPN, domain)
		}
		if label[0] == '-' || label[len(label)-1] == '-' {
			return "", fmt.Errorf("%w: a label of the tenant domain %q starts or ends with '-'", ErrInvalidUPN, domain)
		}
		for i := 0; i < len(label); i++ {
			c := label[i]
			if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-') {
				return "", fmt.Errorf("%w: the tenant domain %q contains %q", ErrInvalidUPN, domain, string(c))
			}
		}
	}
	return d, nil
}

// ValidUPN checks a user principal name against Entra's rules: characters
// A-Z a-z 0-9 ' . - _ ! # ^ ~ before '@', no leading '.', no "..", no '.' right before
// '@', at most 64 characters before '@', 48 after and 113 in all, and a DNS domain.
func ValidUPN(upn string) error {
	if len(upn) > maxUPN {
		return fmt.Errorf("%w: %q is longer than %d characters", ErrInvalidUPN, upn, maxUPN)
	}
	at := strings.IndexByte(upn, '@')
	if at < 0 || strings.Count(upn, "@") != 1 {
		return fmt.Errorf("%w: %q must contain exactly one '@'", ErrInvalidUPN, upn)
	}
	local := upn[:at]
	switch {
	case local == "":
		return fmt.Errorf("%w: %q has nothing before '@'", ErrInvalidUPN, upn)
	case len(local) > maxUPNLocal:
		return fmt.Errorf("%w: %q has more than %d characters before '@'", ErrInvalidUPN, upn, maxUPNLocal)
	case local[0] == '.':
		return fmt.Errorf("%w: %q starts with '.'", ErrInvalidUPN, upn)
	case local[len(local)-1] == '.':
		return fmt.Errorf("%w: %q has '.' right before '@'", ErrInvalidUPN, upn)
	case strings.Contains(local, ".."):
		return fmt.Errorf("%w: %q contains \"..\"", ErrInvalidUPN, upn)
	}
	for i := 0; i < len(local); i++ {
		if !isUPNLocalChar(local[i]) {
			return fmt.Errorf("%w: %q contains %q, which Entra does not allow", ErrInvalidUPN, upn, string(rune(local[i])))
		}
	}
	if _, err := normalizeUPNDomain(upn[at+1:]); err != nil {
		return err
	}
	return nil
}

// MailNickname returns the mail alias Graph requires when creating a user: the part of
// the UPN before '@'. Graph refuses aliases over 64 characters or with any of
// @ ( ) \ [ ] " ; : < > , space or non-ASCII characters, and Exchange refuses a leading or
// trailing '.' or "..".
func MailNickname(upn string) (string, error) {
	at := strings.IndexByte(upn, '@')
	if at < 0 {
		return "", fmt.Errorf("%w: %q has no '@' to take a mail nickname from", ErrInvalidUPN, upn)
	}
	nick := upn[:at]
	switch {
	case nick == "":
		return "", fmt.Errorf("%w: %q has an empty mail nickname", ErrInvalidUPN, upn)
	case len(nick) > maxMailNickname:
		return "", fmt.Errorf("%w: the mail nickname of %q is longer than %d characters", ErrInvalidUPN, upn, maxMailNickname)
	case nick[0] == '.' || nick[len(nick)-1] == '.' || strings.Contains(nick, ".."):
		return "", fmt.Errorf("%w: the mail nickname of %q has a leading, trailing or double '.'", ErrInvalidUPN, upn)
	}
	for i := 0; i < len(nick); i++ {
		c := nick[i]
		if c <= ' ' || c >= 0x7f || strings.IndexByte(`@()\[]";:<>,`, c) >= 0 {
			return "", fmt.Errorf("%w: the mail nickname of %q contains %q", ErrInvalidUPN, upn, string(rune(c)))
		}
	}
	return nick, nil
}

// AccountDisplayName is the display name of a technician's just-in-time account, saying
// whose it is and what it is for, e.g. "Alice Smith (JIT admin, alice@msp.example)".
// Admins of the customer tenant see it in the Entra admin center and sign-in logs.
func AccountDisplayName(technicianName, email string) string {
	name := strings.Join(strings.Fields(technicianName), " ")
	email = strings.TrimSpace(email)
	var s string
	switch {
	case name == "" && email == "":
		s = "Just-in-time admin account"
	case name == "":
		s = email + " (JIT admin)"
	case email == "":
		s = name + " (JIT admin)"
	default:
		s = name + " (JIT admin, " + email + ")"
	}
	if utf8.RuneCountInString(s) > maxDisplayName {
		r := []rune(s)
		s = string(r[:maxDisplayName])
	}
	return s
}

// NewAccountSpec describes the just-in-time account of the technician with this e-mail
// and name in the given domain of a customer tenant.
func NewAccountSpec(email, technicianName, domain string) (AccountSpec, error) {
	upn, err := BuildUPN(email, domain)
	if err != nil {
		return AccountSpec{}, err
	}
	nick, err := MailNickname(upn)
	if err != nil {
		return AccountSpec{}, err
	}
	return AccountSpec{UPN: upn, DisplayName: AccountDisplayName(technicianName, email), MailNickname: nick}, nil
}
