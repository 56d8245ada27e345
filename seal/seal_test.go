package seal_test

import (
	"encoding/base64"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/jitaccess/jitaccess/seal"
)

func key(b byte) []byte {
	k := make([]byte, seal.KeySize)
	for i := range k {
		k[i] = b
	}
	return k
}

func TestSealOpenRoundTrip(t *testing.T) {
	s, err := seal.New(key(1))
	require.NoError(t, err)
	sealed, err := s.Seal("secret-refresh-token", "refresh_token:app_1")
	require.NoError(t, err)
	require.NotContains(t, sealed, "secret")
	require.True(t, strings.HasPrefix(sealed, "v1."+seal.KeyID(key(1))+"."))
	require.Equal(t, seal.KeyID(key(1)), seal.SealedKeyID(sealed))

	plain, err := s.Open(sealed, "refresh_token:app_1")
	require.NoError(t, err)
	require.Equal(t, "secret-refresh-token", plain)

	again, err := s.Seal("secret-refresh-token", "refresh_token:app_1")
	require.NoError(t, err)
	require.NotEqual(t, sealed, again, "nonces must be random")
}

func TestOpenRefusesWrongBindingTamperAndKey(t *testing.T) {
	s, err := seal.New(key(1))
	require.NoError(t, err)
	sealed, err := s.Seal("pw", "password:grt_a")
	require.NoError(t, err)

	_, err = s.Open(sealed, "password:grt_b")
	require.ErrorIs(t, err, seal.ErrOpen)

	raw := []byte(sealed)
	last := len(raw) - 2
	if raw[last] == 'A' {
		raw[last] = 'B'
	} else {
		raw[last] = 'A'
	}
	_, err = s.Open(string(raw), "password:grt_a")
	require.ErrorIs(t, err, seal.ErrOpen)

	other, err := seal.New(key(2))
	require.NoError(t, err)
	_, err = other.Open(sealed, "password:grt_a")
	require.ErrorIs(t, err, seal.ErrOpen)

	for _, bad := range []string{"", "v1", "v2.x.y", "v1." + seal.KeyID(key(1)) + ".!!", "v1." + seal.KeyID(key(1)) + ".AAAA"} {
		_, err = s.Open(bad, "password:grt_a")
		require.ErrorIs(t, err, seal.ErrOpen, bad)
	}
}

func TestRotation(t *testing.T) {
	old, err := seal.New(key(1))
	require.NoError(t, err)
	sealed, err := old.Seal("token", "aad")
	require.NoError(t, err)

	rotated, err := seal.New(key(2), key(1))
	require.NoError(t, err)
	require.Equal(t, seal.KeyID(key(2)), rotated.KeyID())
	plain, err := rotated.Open(sealed, "aad")
	require.NoError(t, err)
	require.Equal(t, "token", plain)

	resealed, err := rotated.Seal(plain, "aad")
	require.NoError(t, err)
	require.Equal(t, seal.KeyID(key(2)), seal.SealedKeyID(resealed))
}

func TestNewRejectsBadKeys(t *testing.T) {
	_, err := seal.New(make([]byte, 16))
	require.ErrorContains(t, err, "32 bytes")
	_, err = seal.New(key(1), []byte("short"))
	require.ErrorContains(t, err, "previous key 1")
}

func TestParseKey(t *testing.T) {
	k := key(7)
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.RawStdEncoding, base64.URLEncoding, base64.RawURLEncoding} {
		got, err := seal.ParseKey(" " + enc.EncodeToString(k) + "\n")
		require.NoError(t, err)
		require.Equal(t, k, got)
	}
	_, err := seal.ParseKey("")
	require.ErrorContains(t, err, "empty")
	_, err = seal.ParseKey("not base64 at all!!")
	require.ErrorContains(t, err, "not valid base64")
	_, err = seal.ParseKey(base64.StdEncoding.EncodeToString([]byte("sixteen byte key")))
	require.ErrorContains(t, err, "16 bytes")

	gen, err := seal.GenerateKey()
	require.NoError(t, err)
	_, err = seal.ParseKey(gen)
	require.NoError(t, err)
}

func TestTokens(t *testing.T) {
	plain, hash := seal.NewToken()
	require.True(t, strings.HasPrefix(plain, seal.TokenPrefix))
	require.Len(t, plain, len(seal.TokenPrefix)+43)
	require.Len(t, hash, 64)
	require.Equal(t, hash, seal.HashToken(plain))
	require.True(t, seal.TokenMatches(plain, hash))
	require.False(t, seal.TokenMatches(plain+"x", hash))

	other, _ := seal.NewToken()
	require.NotEqual(t, plain, other)
}
