package temporalclient

import (
	"bytes"
	"errors"
	"testing"

	commonpb "go.temporal.io/api/common/v1"
	"go.temporal.io/sdk/converter"

	"github.com/jitaccess/jitaccess/seal"
)

var (
	keyA = bytes.Repeat([]byte{'a'}, 32)
	keyB = bytes.Repeat([]byte{'b'}, 32)
)

func mustCodec(t *testing.T, current []byte, previous ...[]byte) *Codec {
	t.Helper()
	c, err := NewCodec(current, previous...)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestCodec(t *testing.T) {
	plain, err := converter.GetDefaultDataConverter().ToPayload(map[string]string{"justification": "INC-4711"})
	if err != nil {
		t.Fatal(err)
	}
	a := mustCodec(t, keyA)
	enc, err := a.Encode([]*commonpb.Payload{plain})
	if err != nil {
		t.Fatal(err)
	}
	if !IsEncrypted(enc[0]) || string(enc[0].Metadata[MetadataKeyID]) != a.KeyID() {
		t.Fatalf("metadata %v", enc[0].Metadata)
	}
	if bytes.Contains(enc[0].Data, []byte("INC-4711")) || bytes.Contains(enc[0].Data, []byte("json/plain")) {
		t.Fatal("data or metadata in clear")
	}
	// The payload key is derived for its purpose: not the database sealing key itself.
	if a.KeyID() == seal.KeyID(keyA) {
		t.Error("payload key id equals the database key's id")
	}

	for _, tt := range []struct {
		name    string
		codec   *Codec
		in      *commonpb.Payload
		want    *commonpb.Payload
		wantErr error
	}{
		{"same key", a, enc[0], plain, nil},
		{"rotated: old key kept as previous", mustCodec(t, keyB, keyA), enc[0], plain, nil},
		{"key not known", mustCodec(t, keyB), enc[0], nil, seal.ErrOpen},
		{"plain payload read (history before the codec)", a, plain, plain, nil},
		{"plain payload refused by the strict codec", a.Strict(), plain, nil, ErrNotEncrypted},
		{"strict codec decrypts", a.Strict(), enc[0], plain, nil},
		{"tampered", a, &commonpb.Payload{Metadata: enc[0].Metadata, Data: append(bytes.Clone(enc[0].Data[:len(enc[0].Data)-1]), enc[0].Data[len(enc[0].Data)-1]^1)}, nil, seal.ErrOpen},
	} {
		t.Run(tt.name, func(t *testing.T) {
			got, err := tt.codec.Decode([]*commonpb.Payload{tt.in})
			if tt.wantErr != nil {
				if !errors.Is(err, tt.wantErr) {
					t.Fatalf("err = %v, want %v", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got[0].Data, tt.want.Data) || string(got[0].Metadata[converter.MetadataEncoding]) != string(tt.want.Metadata[converter.MetadataEncoding]) {
				t.Errorf("decoded %v, want %v", got[0], tt.want)
			}
		})
	}

	// A value sealed for the database does not open as a payload (different key and binding).
	s, err := seal.New(keyA)
	if err != nil {
		t.Fatal(err)
	}
	dbValue, err := s.SealBytes(plain.Data, []byte(aad))
	if err != nil {
		t.Fatal(err)
	}
	forged := &commonpb.Payload{Metadata: map[string][]byte{converter.MetadataEncoding: []byte(EncodingEncrypted), MetadataKeyID: []byte(s.KeyID())}, Data: dbValue}
	if _, err := a.Decode([]*commonpb.Payload{forged}); !errors.Is(err, seal.ErrOpen) {
		t.Errorf("database-key ciphertext decoded: %v", err)
	}
}

func TestDataConverterRoundTrip(t *testing.T) {
	dc := NewDataConverter(mustCodec(t, keyA))
	type input struct{ GrantID string }
	p, err := dc.ToPayloads(input{"grt_1"}, "two")
	if err != nil {
		t.Fatal(err)
	}
	for _, pl := range p.Payloads {
		if !IsEncrypted(pl) {
			t.Fatalf("not encrypted: %v", pl.Metadata)
		}
	}
	var got input
	var two string
	if err := dc.FromPayloads(p, &got, &two); err != nil || got.GrantID != "grt_1" || two != "two" {
		t.Fatalf("%v %+v %q", err, got, two)
	}
}
