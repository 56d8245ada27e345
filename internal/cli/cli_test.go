package cli

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"testing"
)

type badFlag struct{ msg string }

func (e *badFlag) Error() string { return e.msg }
func (*badFlag) UsageError()     {}

func TestReport(t *testing.T) {
	for _, c := range []struct {
		err  error
		code int
		out  string
	}{
		{nil, 0, ""},
		{errors.New("database down"), 1, "tool: database down\n"},
		{&badFlag{"unknown subcommand"}, 2, "tool: unknown subcommand\n"},
		{fmt.Errorf("token: %w", &badFlag{"--role"}), 2, "tool: token: --role\n"},
		{flag.ErrHelp, 2, "tool: flag: help requested\n"},
	} {
		var b bytes.Buffer
		if code := Report(&b, "tool", c.err); code != c.code || b.String() != c.out {
			t.Errorf("Report(%v) = %d %q, want %d %q", c.err, code, b.String(), c.code, c.out)
		}
	}
}
