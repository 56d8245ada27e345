package main

import (
	"archive/zip"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"sort"
	"testing"

	"github.com/stretchr/testify/require"
)

// The extension in the repository carries the product's version, and the package carries it too.
func TestPackagedExtensionFollowsTheProductVersion(t *testing.T) {
	root := filepath.Join("..", "..")
	v, err := ReadVersion(filepath.Join(root, "VERSION"))
	require.NoError(t, err)

	var inRepo struct {
		Version         string `json:"version"`
		ManifestVersion int    `json:"manifest_version"`
	}
	b, err := os.ReadFile(filepath.Join(root, "extension", "manifest.json"))
	require.NoError(t, err)
	require.NoError(t, json.Unmarshal(b, &inRepo))
	require.Equal(t, v, inRepo.Version, "extension/manifest.json's version must equal VERSION")
	require.Equal(t, 3, inRepo.ManifestVersion)

	out := filepath.Join(t.TempDir(), "ext.zip")
	require.NoError(t, Pack(filepath.Join(root, "extension"), "9.8.7", out))
	zr, err := zip.OpenReader(out)
	require.NoError(t, err)
	defer zr.Close()
	var names []string
	for _, f := range zr.File {
		names = append(names, f.Name)
		if f.Name == "manifest.json" {
			rc, err := f.Open()
			require.NoError(t, err)
			mb, err := io.ReadAll(rc)
			rc.Close()
			require.NoError(t, err)
			var m struct{ Version string }
			require.NoError(t, json.Unmarshal(mb, &m))
			require.Equal(t, "9.8.7", m.Version)
		}
	}
	sort.Strings(names)
	require.Contains(t, names, "background.js")
	require.Contains(t, names, "popup.html")
	require.Contains(t, names, "lib/fill.js")
	for _, n := range names {
		require.False(t, n == "package.json" || filepath.Dir(n) == "test", "%s is not shipped", n)
	}
}

func TestVersionMustBeOneChromeAccepts(t *testing.T) {
	dir := t.TempDir()
	for _, tc := range []struct {
		v  string
		ok bool
	}{{"1.2.3", true}, {"0.3.0\n", true}, {"1.2.3-rc1", false}, {"v1", false}, {"1.2.3.4.5", false}} {
		p := filepath.Join(dir, "VERSION")
		require.NoError(t, os.WriteFile(p, []byte(tc.v), 0o644))
		_, err := ReadVersion(p)
		require.Equal(t, tc.ok, err == nil, tc.v)
	}
}
