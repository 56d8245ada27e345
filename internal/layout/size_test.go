package layout

import (
	"bufio"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// Issue #19's limits: a package over 1,500 lines of code (non-test, without blank and comment
// lines) or a file over 500 lines is a sign that a part of the design hides in it. The emulator
// (a stand-in for all of Microsoft Graph) is the one exception.
const (
	maxPackageCode = 1500
	maxFileLines   = 500
)

var sizeExceptions = map[string]bool{"internal/entrasim": true}

func TestPackagesAndFilesStaySmall(t *testing.T) {
	cmd := exec.Command("go", "list", "-f", `{{.Dir}}{{range .GoFiles}} {{.}}{{end}}`, module+"/...")
	cmd.Dir = filepath.Join("..", "..")
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	root, err := filepath.Abs(filepath.Join("..", ".."))
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		fields := strings.Fields(line)
		rel, _ := filepath.Rel(root, fields[0])
		if sizeExceptions[rel] {
			continue
		}
		code := 0
		for _, name := range fields[1:] {
			lines, c := countLines(t, filepath.Join(fields[0], name))
			code += c
			if lines > maxFileLines {
				t.Errorf("%s/%s has %d lines, more than %d", rel, name, lines, maxFileLines)
			}
		}
		if code > maxPackageCode {
			t.Errorf("package %s has %d lines of code, more than %d", rel, code, maxPackageCode)
		}
	}
}

// countLines returns a file's lines and its lines of code (neither blank nor a // comment).
func countLines(t *testing.T, path string) (lines, code int) {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		lines++
		if s := strings.TrimSpace(sc.Text()); s != "" && !strings.HasPrefix(s, "//") {
			code++
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return lines, code
}

// The README's layout section names every package, so a newcomer finds each one there.
func TestReadmeLayoutNamesEveryPackage(t *testing.T) {
	b, err := os.ReadFile(filepath.Join("..", "..", "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	readme := string(b)
	start := strings.Index(readme, "The layout, top to bottom")
	if start < 0 {
		t.Fatal("README.md has no layout section (\"The layout, top to bottom\")")
	}
	section := readme[start:]
	if end := strings.Index(section, "\n\n"+"#"); end > 0 {
		section = section[:end]
	}
	cmd := exec.Command("go", "list", module+"/...")
	cmd.Dir = filepath.Join("..", "..")
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	for _, pkg := range strings.Fields(string(out)) {
		rel := strings.TrimPrefix(pkg, module+"/")
		last := rel[strings.LastIndex(rel, "/")+1:]
		found := false
		inner := rel[strings.Index(rel, "/")+1:] // internal/bench/load → bench/load
		for _, name := range []string{rel, rel + "/", last, last + "/", inner, inner + "/"} {
			if strings.Contains(section, "`"+name+"`") {
				found = true
				break
			}
		}
		if !found {
			t.Errorf("README.md's layout section does not name %s", rel)
		}
	}
}
