// Package layout holds the test that keeps docs/design.md's import table true: every package of
// the module is listed there, and each imports (outside its tests) only what its row allows.
package layout

import (
	"bufio"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"
)

const module = "github.com/jitaccess/jitaccess"

// rule is one row of the table: the packages a package may import ("*" for everything).
type rule struct {
	allowed map[string]bool
	any     bool
}

var rowPattern = regexp.MustCompile("^\\| `([^`]+)` \\|")

// readTable parses the rows under "## Packages and who may import whom". A package's row names its
// folder (`store/`, `server/api/`); a row ending in `/…` covers every package below that folder.
func readTable(t *testing.T) map[string]rule {
	t.Helper()
	f, err := os.Open(filepath.Join("..", "..", "docs", "design.md"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rules := map[string]rule{}
	in := false
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Text()
		if strings.HasPrefix(line, "## ") {
			in = strings.HasPrefix(line, "## Packages and who may import whom")
			continue
		}
		m := rowPattern.FindStringSubmatch(line)
		if !in || m == nil {
			continue
		}
		cells := strings.Split(line, "|")
		last := cells[len(cells)-2]
		r := rule{allowed: map[string]bool{}}
		switch {
		case strings.Contains(last, "everything but `internal`"):
			r.any = true
		case strings.Contains(last, "everything"):
			r.any = true
		}
		for _, name := range regexp.MustCompile("`([a-z0-9/]+)`").FindAllStringSubmatch(last, -1) {
			r.allowed[strings.TrimSuffix(name[1], "/")] = true
		}
		rules[strings.TrimSuffix(m[1], "/")] = r
	}
	if len(rules) == 0 {
		t.Fatal("docs/design.md has no import table under \"## Packages and who may import whom\"")
	}
	return rules
}

// ruleFor finds a package's row: its own, or the nearest folder row ending in "/…".
func ruleFor(rules map[string]rule, pkg string) (rule, bool) {
	if r, ok := rules[pkg]; ok {
		return r, true
	}
	for p := pkg; strings.Contains(p, "/"); {
		p = p[:strings.LastIndex(p, "/")]
		if r, ok := rules[p+"/…"]; ok {
			return r, true
		}
	}
	return rule{}, false
}

func TestImportsFollowTheDesignTable(t *testing.T) {
	rules := readTable(t)
	cmd := exec.Command("go", "list", "-f", `{{.ImportPath}}{{range .Imports}} {{.}}{{end}}`, module+"/...")
	cmd.Dir = filepath.Join("..", "..")
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	var problems []string
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		fields := strings.Fields(line)
		pkg := strings.TrimPrefix(strings.TrimPrefix(fields[0], module), "/")
		if pkg == "" {
			pkg = "."
		}
		r, ok := ruleFor(rules, pkg)
		if !ok {
			problems = append(problems, "package "+pkg+" is not in docs/design.md's import table")
			continue
		}
		for _, imp := range fields[1:] {
			if strings.HasPrefix(imp, "github.com/microsoftgraph/") && pkg != "entra" {
				problems = append(problems, pkg+" imports "+imp+": only entra may link msgraph-sdk-go")
			}
			if !strings.HasPrefix(imp, module+"/") {
				continue
			}
			dep := strings.TrimPrefix(imp, module+"/")
			if strings.HasPrefix(dep, "internal/") && !strings.HasPrefix(pkg, "internal/") && !strings.HasPrefix(pkg, "cmd/") {
				problems = append(problems, pkg+" imports "+dep+": the product's packages never import the tools and harness")
				continue
			}
			if r.any {
				continue
			}
			if !r.allowed[dep] && !allowedByFolder(r, dep) {
				problems = append(problems, pkg+" imports "+dep+", which its row in docs/design.md does not allow")
			}
		}
	}
	sort.Strings(problems)
	for _, p := range problems {
		t.Error(p)
	}
}

// allowedByFolder lets a row name a folder (`server`) for the packages below it (`server/api`).
func allowedByFolder(r rule, dep string) bool {
	for p := dep; strings.Contains(p, "/"); {
		p = p[:strings.LastIndex(p, "/")]
		if r.allowed[p] {
			return true
		}
	}
	return false
}
