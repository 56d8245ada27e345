package auditchain

import (
	"crypto/ed25519"
	"crypto/hkdf"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"time"
)

// Checkpoint seals a chain up to Seq, whose row has Hash. Reason is "periodic" or "retention"
// (the cut below which rows were purged).
type Checkpoint struct {
	Seq       int64
	Hash      string
	CreatedAt time.Time
	Reason    string
	KeyID     string
	Signature string // base64 Ed25519 over SigningInput
}

// Checkpoint reasons.
const (
	ReasonPeriodic  = "periodic"
	ReasonRetention = "retention"
)

// SigningInput is what a checkpoint's signature covers.
func SigningInput(c Checkpoint) []byte {
	return []byte("jitaccess-audit-checkpoint-v1\n" + ChainID + "\n" + strconv.FormatInt(c.Seq, 10) + "\n" + c.Hash + "\n" +
		strconv.FormatInt(c.CreatedAt.UTC().UnixMicro(), 10) + "\n" + c.Reason)
}

// Keys signs checkpoints with the current key and verifies with any key it holds. Keys are
// derived (HKDF-SHA256) from the deployment's encryption keys, so rotating JIT_ENCRYPTION_KEY
// (the old key moving to JIT_PREVIOUS_ENCRYPTION_KEYS) rotates the signing key too.
type Keys struct {
	current string
	priv    map[string]ed25519.PrivateKey
}

// NewKeys derives the signing keys from the current encryption key and previous ones.
func NewKeys(current []byte, previous ...[]byte) (*Keys, error) {
	k := &Keys{priv: map[string]ed25519.PrivateKey{}}
	for i, secret := range append([][]byte{current}, previous...) {
		if len(secret) < 16 {
			return nil, fmt.Errorf("auditchain: key %d is too short", i)
		}
		seed, err := hkdf.Key(sha256.New, secret, nil, "jitaccess audit checkpoint signing v1", ed25519.SeedSize)
		if err != nil {
			return nil, fmt.Errorf("auditchain: derive key: %w", err)
		}
		priv := ed25519.NewKeyFromSeed(seed)
		id := KeyID(priv.Public().(ed25519.PublicKey))
		k.priv[id] = priv
		if i == 0 {
			k.current = id
		}
	}
	return k, nil
}

// KeyID names a public key: the first 16 hex characters of its SHA-256.
func KeyID(pub ed25519.PublicKey) string {
	sum := sha256.Sum256(pub)
	return hex.EncodeToString(sum[:8])
}

// CurrentKeyID is the id of the key Sign uses.
func (k *Keys) CurrentKeyID() string { return k.current }

// PublicKey returns the public key with the given id (to hand to an outside verifier).
func (k *Keys) PublicKey(id string) (ed25519.PublicKey, bool) {
	p, ok := k.priv[id]
	if !ok {
		return nil, false
	}
	return p.Public().(ed25519.PublicKey), true
}

// Sign fills c's key id and signature with the current key.
func (k *Keys) Sign(c Checkpoint) Checkpoint {
	c.CreatedAt = c.CreatedAt.UTC().Truncate(time.Microsecond)
	c.KeyID = k.current
	c.Signature = base64.StdEncoding.EncodeToString(ed25519.Sign(k.priv[k.current], SigningInput(c)))
	return c
}

// ErrBadSignature means a checkpoint's signature does not verify, or its key is unknown.
var ErrBadSignature = errors.New("checkpoint signature does not verify")

// VerifyCheckpoint checks c's signature against the key it names.
func (k *Keys) VerifyCheckpoint(c Checkpoint) error {
	priv, ok := k.priv[c.KeyID]
	if !ok {
		return fmt.Errorf("checkpoint at seq %d: unknown key id %q: %w", c.Seq, c.KeyID, ErrBadSignature)
	}
	sig, err := base64.StdEncoding.DecodeString(c.Signature)
	if err != nil || !ed25519.Verify(priv.Public().(ed25519.PublicKey), SigningInput(c), sig) {
		return fmt.Errorf("checkpoint at seq %d (key %s): %w", c.Seq, c.KeyID, ErrBadSignature)
	}
	return nil
}
