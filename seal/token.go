package seal

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
)

// TokenPrefix starts every API token so that it is recognisable in a secret scanner.
const TokenPrefix = "jit_"

// NewToken makes a random API token (shown once) and the hash under which it is stored.
func NewToken() (plain, hash string) {
	b := make([]byte, 32)
	// crypto/rand.Read never returns an error on supported platforms (it panics instead).
	_, _ = rand.Read(b)
	plain = TokenPrefix + base64.RawURLEncoding.EncodeToString(b)
	return plain, HashToken(plain)
}

// HashToken is the stored form of an API token: SHA-256, lowercase hex. Tokens carry 256
// random bits, so a fast hash is enough; the hash is a lookup key, not a password hash.
func HashToken(plain string) string {
	sum := sha256.Sum256([]byte(plain))
	return hex.EncodeToString(sum[:])
}

// TokenMatches reports whether plain hashes to hash, in constant time.
func TokenMatches(plain, hash string) bool {
	return subtle.ConstantTimeCompare([]byte(HashToken(plain)), []byte(hash)) == 1
}
