package seal

import (
	"crypto/hkdf"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
)

// KeySize is the length of an AES-256 key in bytes.
const KeySize = 32

// ParseKey decodes a base64 key (standard or URL alphabet, padded or not) and checks its length.
// Errors never include the key material.
func ParseKey(encoded string) ([]byte, error) {
	s := strings.TrimSpace(encoded)
	if s == "" {
		return nil, errors.New("encryption key is empty: expected 32 bytes, base64-encoded")
	}
	var (
		key []byte
		err error
	)
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.RawStdEncoding, base64.URLEncoding, base64.RawURLEncoding} {
		if key, err = enc.DecodeString(s); err == nil {
			break
		}
	}
	if err != nil {
		return nil, errors.New("encryption key is not valid base64: expected 32 bytes, base64-encoded")
	}
	if len(key) != KeySize {
		return nil, fmt.Errorf("encryption key decodes to %d bytes: expected %d", len(key), KeySize)
	}
	return key, nil
}

// GenerateKey returns a fresh random key, base64 (standard alphabet) encoded.
func GenerateKey() (string, error) {
	key := make([]byte, KeySize)
	if _, err := rand.Read(key); err != nil {
		return "", fmt.Errorf("generate key: %w", err)
	}
	return base64.StdEncoding.EncodeToString(key), nil
}

// DeriveKey derives a key for one purpose (e.g. "temporal-payloads") from a configured key, so
// one configured secret never encrypts two kinds of data under the same AES key.
func DeriveKey(key []byte, purpose string) ([]byte, error) {
	if len(key) != KeySize {
		return nil, fmt.Errorf("seal: key must be %d bytes, got %d", KeySize, len(key))
	}
	return hkdf.Key(sha256.New, key, nil, "jitaccess/"+purpose, KeySize)
}
