// Package seal encrypts secrets at rest (refresh tokens, managed passwords) with AES-256-GCM
// and makes and hashes API tokens.
//
// A sealed value reads "v1.<key id>.<base64url(nonce‖ciphertext)>". The key id names the key
// that sealed it, so a key can be rotated: seal with the new key, keep the old ones for Open.
// The additional data binds a ciphertext to its row ("refresh_token:app_…"), so a value copied
// into another row does not open.
package seal

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
)

const version = "v1"

// ErrOpen means a sealed value could not be opened: wrong key, wrong row, or tampered.
// It deliberately says no more than that.
var ErrOpen = errors.New("seal: cannot open sealed value (wrong key, wrong binding or tampered)")

// Sealer seals with its current key and opens with any of its keys.
type Sealer struct {
	currentID string
	aeads     map[string]cipher.AEAD
}

// New makes a Sealer that seals with current and also opens values sealed with previous keys.
func New(current []byte, previous ...[]byte) (*Sealer, error) {
	s := &Sealer{aeads: make(map[string]cipher.AEAD, 1+len(previous))}
	id, err := s.add(current)
	if err != nil {
		return nil, fmt.Errorf("current key: %w", err)
	}
	s.currentID = id
	for i, k := range previous {
		if _, err := s.add(k); err != nil {
			return nil, fmt.Errorf("previous key %d: %w", i+1, err)
		}
	}
	return s, nil
}

func (s *Sealer) add(key []byte) (string, error) {
	if len(key) != KeySize {
		return "", fmt.Errorf("seal: key must be %d bytes, got %d", KeySize, len(key))
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return "", fmt.Errorf("seal: %w", err)
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return "", fmt.Errorf("seal: %w", err)
	}
	id := KeyID(key)
	s.aeads[id] = aead
	return id, nil
}

// KeyID is the id of the key that Seal uses now.
func (s *Sealer) KeyID() string { return s.currentID }

// KeyID is the first 8 hex characters of SHA-256(key): it names a key without revealing it.
func KeyID(key []byte) string {
	sum := sha256.Sum256(key)
	return hex.EncodeToString(sum[:])[:8]
}

// Seal encrypts plaintext bound to aad with the current key.
func (s *Sealer) Seal(plaintext, aad string) (string, error) {
	out, err := s.SealBytes([]byte(plaintext), []byte(aad))
	if err != nil {
		return "", err
	}
	return version + "." + s.currentID + "." + base64.RawURLEncoding.EncodeToString(out), nil
}

// Open decrypts a value made by Seal with the same aad, with whichever known key sealed it.
func (s *Sealer) Open(sealed, aad string) (string, error) {
	parts := strings.SplitN(sealed, ".", 3)
	if len(parts) != 3 || parts[0] != version {
		return "", fmt.Errorf("seal: not a sealed value: %w", ErrOpen)
	}
	raw, err := base64.RawURLEncoding.DecodeString(parts[2])
	if err != nil {
		return "", fmt.Errorf("seal: malformed ciphertext: %w", ErrOpen)
	}
	plain, err := s.OpenBytes(parts[1], raw, []byte(aad))
	if err != nil {
		return "", err
	}
	return string(plain), nil
}

// SealBytes encrypts plaintext bound to aad with the current key (KeyID names it) and returns
// nonce‖ciphertext, for callers that carry the key id beside the bytes.
func (s *Sealer) SealBytes(plaintext, aad []byte) ([]byte, error) {
	aead := s.aeads[s.currentID]
	nonce := make([]byte, aead.NonceSize(), aead.NonceSize()+len(plaintext)+aead.Overhead())
	if _, err := rand.Read(nonce); err != nil {
		return nil, fmt.Errorf("seal: nonce: %w", err)
	}
	return aead.Seal(nonce, nonce, plaintext, aad), nil
}

// OpenBytes decrypts nonce‖ciphertext made by SealBytes under the key named keyID.
func (s *Sealer) OpenBytes(keyID string, sealed, aad []byte) ([]byte, error) {
	aead, ok := s.aeads[keyID]
	if !ok {
		return nil, fmt.Errorf("seal: sealed with unknown key %s: %w", keyID, ErrOpen)
	}
	if len(sealed) < aead.NonceSize()+aead.Overhead() {
		return nil, fmt.Errorf("seal: malformed ciphertext: %w", ErrOpen)
	}
	n := aead.NonceSize()
	plain, err := aead.Open(nil, sealed[:n], sealed[n:], aad)
	if err != nil {
		return nil, ErrOpen
	}
	return plain, nil
}

// SealedKeyID returns the key id a sealed value names, or "" when it is not a sealed value.
func SealedKeyID(sealed string) string {
	parts := strings.SplitN(sealed, ".", 3)
	if len(parts) != 3 || parts[0] != version {
		return ""
	}
	return parts[1]
}
