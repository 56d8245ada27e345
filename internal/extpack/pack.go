package main

import (
	"archive/zip"
	"encoding/json"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strings"
)

// chromeVersion is what Chrome accepts as a manifest version: one to four dot-separated integers.
var chromeVersion = regexp.MustCompile(`^\d+(\.\d+){0,3}$`)

// ReadVersion reads the product's version from its VERSION file.
func ReadVersion(path string) (string, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return "", err
	}
	v := strings.TrimSpace(string(b))
	if !chromeVersion.MatchString(v) {
		return "", fmt.Errorf("%s: %q is not a version Chrome accepts (1 to 4 dot-separated numbers)", path, v)
	}
	return v, nil
}

// shipped says whether a file of the extension's folder goes into the package: not its tests,
// not the package.json that only the tests need.
func shipped(rel string) bool {
	return rel != "package.json" && !strings.HasPrefix(rel, "test/")
}

// Pack writes the extension under src into a zip at out, with the manifest's version set to v.
func Pack(src, v, out string) error {
	if err := os.MkdirAll(filepath.Dir(out), 0o755); err != nil {
		return err
	}
	f, err := os.Create(out)
	if err != nil {
		return err
	}
	zw := zip.NewWriter(f)
	walkErr := filepath.WalkDir(src, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, err := filepath.Rel(src, path)
		if err != nil {
			return err
		}
		rel = filepath.ToSlash(rel)
		if !shipped(rel) {
			return nil
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		if rel == "manifest.json" {
			if b, err = withVersion(b, v); err != nil {
				return err
			}
		}
		w, err := zw.Create(rel)
		if err != nil {
			return err
		}
		_, err = w.Write(b)
		return err
	})
	if err := zw.Close(); walkErr == nil {
		walkErr = err
	}
	if err := f.Close(); walkErr == nil {
		walkErr = err
	}
	return walkErr
}

func withVersion(manifest []byte, v string) ([]byte, error) {
	var m map[string]any
	if err := json.Unmarshal(manifest, &m); err != nil {
		return nil, fmt.Errorf("manifest.json: %w", err)
	}
	m["version"] = v
	return json.MarshalIndent(m, "", "  ")
}
