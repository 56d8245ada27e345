package directory

import (
	"crypto/rand"
	"encoding/binary"
	"errors"
	"fmt"
)

// Character classes of generated passwords. Entra's policy (SSPR policy page) allows
// A-Z a-z 0-9 and the symbols @ # $ % ^ & * - _ ! + = [ ] { } | \ : ' , . ? / ` ~ " ( ) ; < >
// and space. Generated passwords use a subset that is unambiguous to read and safe to paste
// into shells and forms: no I/l/1/O/0, no quotes, backslash, backtick or space.
const (
	pwLower   = "abcdefghijkmnopqrstuvwxyz"
	pwUpper   = "ABCDEFGHJKLMNPQRSTUVWXYZ"
	pwDigits  = "23456789"
	pwSymbols = "!#$%&*+-=?@^_~"

	// PasswordLength is the length of every generated password (~150 bits of entropy).
	PasswordLength = 28

	// Entra's limits on a password.
	minPasswordLength = 8
	maxPasswordLength = 256
	// entraSymbols is Entra's complete set of allowed symbols (space included).
	entraSymbols = "@#$%^&*-_!+=[]{}|\\:',.?/`~\"();<> "
)

// NewPassword returns a fresh random password from crypto/rand that always satisfies
// Entra's password policy: PasswordLength characters with at least one lowercase letter,
// one uppercase letter, one digit and one symbol, only from Entra's allowed set.
func NewPassword() string {
	classes := [...]string{pwLower, pwUpper, pwDigits, pwSymbols}
	all := pwLower + pwUpper + pwDigits + pwSymbols
	b := make([]byte, PasswordLength)
	// One of each class guarantees all four classes; the rest is uniform over all of them.
	for i, class := range classes {
		b[i] = class[randIntn(len(class))]
	}
	for i := len(classes); i < len(b); i++ {
		b[i] = all[randIntn(len(all))]
	}
	// Fisher–Yates, so the guaranteed characters are not always in front.
	for i := len(b) - 1; i > 0; i-- {
		j := randIntn(i + 1)
		b[i], b[j] = b[j], b[i]
	}
	return string(b)
}

// randIntn returns a uniform integer in [0, n) from crypto/rand (rejection sampling).
func randIntn(n int) int {
	if n <= 0 {
		panic("randIntn: n must be positive")
	}
	limit := ^uint32(0) - (^uint32(0) % uint32(n)) // largest multiple of n
	var buf [4]byte
	for {
		_, _ = rand.Read(buf[:]) // crypto/rand.Read never returns an error (Go ≥ 1.24)
		v := binary.LittleEndian.Uint32(buf[:])
		if v < limit {
			return int(v % uint32(n))
		}
	}
}

// ErrWeakPassword is wrapped by ValidPassword's errors.
var ErrWeakPassword = errors.New("password does not meet Entra's password policy")

// ValidPassword checks p against Entra's password policy: 8–256 characters, only letters
// A-Z a-z, digits and Entra's allowed symbols (space included), and at least three of the
// four classes lowercase, uppercase, digit, symbol. The error never contains the password.
func ValidPassword(p string) error {
	if len(p) < minPasswordLength || len(p) > maxPasswordLength {
		return fmt.Errorf("%w: length %d is outside 8–256 characters", ErrWeakPassword, len(p))
	}
	var lower, upper, digit, symbol bool
	for i := 0; i < len(p); i++ {
		c := p[i]
		switch {
		case c >= 'a' && c <= 'z':
			lower = true
		case c >= 'A' && c <= 'Z':
			upper = true
		case c >= '0' && c <= '9':
			digit = true
		case isEntraSymbol(c):
			symbol = true
		default:
			return fmt.Errorf("%w: character at position %d is not allowed", ErrWeakPassword, i+1)
		}
	}
	classes := 0
	for _, ok := range [...]bool{lower, upper, digit, symbol} {
		if ok {
			classes++
		}
	}
	if classes < 3 {
		return fmt.Errorf("%w: it uses %d of the 4 character classes (lowercase, uppercase, digit, symbol), at least 3 are required", ErrWeakPassword, classes)
	}
	return nil
}

func isEntraSymbol(c byte) bool {
	for i := 0; i < len(entraSymbols); i++ {
		if entraSymbols[i] == c {
			return true
		}
	}
	return false
}
