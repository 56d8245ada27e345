package temporalclient

import (
	"errors"
	"fmt"

	commonpb "go.temporal.io/api/common/v1"
	"go.temporal.io/sdk/converter"
	"google.golang.org/protobuf/proto"

	"github.com/jitaccess/jitaccess/seal"
)

const (
	// EncodingEncrypted marks a payload sealed by Codec.
	EncodingEncrypted = "binary/encrypted"
	// MetadataKeyID names the key that sealed a payload (seal.KeyID of the derived key).
	MetadataKeyID = "encryption-key-id"

	// keyPurpose separates the payload key from the key that seals secrets at rest.
	keyPurpose = "temporal-payloads"
	// aad binds a ciphertext to its use: a sealed database value does not open as a payload.
	aad = "jitaccess temporal payload"
)

// ErrNotEncrypted is returned by a strict codec for a payload that arrived without the codec:
// a workflow started, signalled or updated by a client that does not hold the key.
var ErrNotEncrypted = errors.New("temporalclient: refusing an unencrypted payload (sent without jitaccess's codec)")

// Codec is an AES-256-GCM converter.PayloadCodec. It encrypts every payload (data and metadata)
// with a key derived from JIT_ENCRYPTION_KEY, and decrypts with that key or a previous one.
type Codec struct {
	sealer *seal.Sealer
	// strict refuses payloads without the encrypted encoding (workers); otherwise they pass
	// through unchanged, so histories recorded before the codec stay readable (auditors).
	strict bool
}

// NewCodec builds a codec from the configured keys (current first, then previous ones).
// The returned codec reads plain payloads too; Strict returns the worker's variant.
func NewCodec(current []byte, previous ...[]byte) (*Codec, error) {
	cur, err := seal.DeriveKey(current, keyPurpose)
	if err != nil {
		return nil, fmt.Errorf("payload key: %w", err)
	}
	prev := make([][]byte, 0, len(previous))
	for i, k := range previous {
		d, err := seal.DeriveKey(k, keyPurpose)
		if err != nil {
			return nil, fmt.Errorf("previous payload key %d: %w", i+1, err)
		}
		prev = append(prev, d)
	}
	s, err := seal.New(cur, prev...)
	if err != nil {
		return nil, err
	}
	return &Codec{sealer: s}, nil
}

// Strict returns a codec with the same keys that refuses plain payloads on Decode.
func (c *Codec) Strict() *Codec { return &Codec{sealer: c.sealer, strict: true} }

// KeyID names the key new payloads are sealed with.
func (c *Codec) KeyID() string { return c.sealer.KeyID() }

// Encode implements converter.PayloadCodec.
func (c *Codec) Encode(payloads []*commonpb.Payload) ([]*commonpb.Payload, error) {
	out := make([]*commonpb.Payload, len(payloads))
	for i, p := range payloads {
		raw, err := proto.Marshal(p)
		if err != nil {
			return nil, fmt.Errorf("temporalclient: marshal payload: %w", err)
		}
		sealed, err := c.sealer.SealBytes(raw, []byte(aad))
		if err != nil {
			return nil, err
		}
		out[i] = &commonpb.Payload{
			Metadata: map[string][]byte{
				converter.MetadataEncoding: []byte(EncodingEncrypted),
				MetadataKeyID:              []byte(c.sealer.KeyID()),
			},
			Data: sealed,
		}
	}
	return out, nil
}

// Decode implements converter.PayloadCodec.
func (c *Codec) Decode(payloads []*commonpb.Payload) ([]*commonpb.Payload, error) {
	out := make([]*commonpb.Payload, len(payloads))
	for i, p := range payloads {
		if !IsEncrypted(p) {
			if c.strict {
				return nil, ErrNotEncrypted
			}
			out[i] = p
			continue
		}
		raw, err := c.sealer.OpenBytes(string(p.GetMetadata()[MetadataKeyID]), p.GetData(), []byte(aad))
		if err != nil {
			return nil, fmt.Errorf("temporalclient: decrypt payload: %w", err)
		}
		var dec commonpb.Payload
		if err := proto.Unmarshal(raw, &dec); err != nil {
			return nil, fmt.Errorf("temporalclient: unmarshal payload: %w", err)
		}
		out[i] = &dec
	}
	return out, nil
}

// IsEncrypted reports whether p was sealed by a Codec.
func IsEncrypted(p *commonpb.Payload) bool {
	return string(p.GetMetadata()[converter.MetadataEncoding]) == EncodingEncrypted
}

// NewDataConverter is the SDK's default converter with the codec applied. Every jitaccess
// client, worker and reader of histories uses it instead of the default converter.
func NewDataConverter(c *Codec) converter.DataConverter {
	return converter.NewCodecDataConverter(converter.GetDefaultDataConverter(), c)
}
