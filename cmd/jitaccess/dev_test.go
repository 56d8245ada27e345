package main

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"os"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// The dev default for JIT_EXTENSION_IDS is the id Chromium gives the unpacked extension.
func TestDevExtensionIDMatchesManifestKey(t *testing.T) {
	raw, err := os.ReadFile("../../extension/manifest.json")
	require.NoError(t, err)
	var m struct {
		Key string `json:"key"`
	}
	require.NoError(t, json.Unmarshal(raw, &m))
	der, err := base64.StdEncoding.DecodeString(m.Key)
	require.NoError(t, err)
	sum := sha256.Sum256(der)
	id := strings.Map(func(r rune) rune {
		if r <= '9' {
			return 'a' + (r - '0')
		}
		return 'a' + 10 + (r - 'a')
	}, hex.EncodeToString(sum[:])[:32])
	require.Equal(t, id, DevExtensionID)
}
