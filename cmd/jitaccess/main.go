// Command jitaccess is the whole product in one binary: the API, the worker, the Entra
// emulator, the one-command dev stack and the operators' and auditors' tools.
package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"sort"

	"github.com/gin-gonic/gin"

	"github.com/jitaccess/jitaccess/internal/cli"
)

// command is one subcommand. run gets the arguments after the subcommand's name.
type command struct {
	summary string
	run     func(ctx context.Context, env environment, args []string) error
}

// environment is what a subcommand may read from its process: no globals.
type environment struct {
	getenv func(string) string
	stdout io.Writer
	stderr io.Writer
}

func commands() map[string]command {
	return map[string]command{
		"serve":        {"run the HTTP API and portal", runServe},
		"worker":       {"run a Temporal worker for the AccessRequest workflow", runWorker},
		"dev":          {"run everything locally with demo data (Temporal dev server, emulator, API, worker)", runDev},
		"migrate":      {"apply database migrations (up, or down with --down)", runMigrate},
		"entra-sim":    {"run the Entra ID / Microsoft Graph emulator alone", runEntraSimCommand},
		"token":        {"manage API tokens: create (for an MSP admin or technician), list, revoke", runToken},
		"codec-server": {"serve the Temporal codec endpoint (decrypts payloads for admins in the Temporal UI and CLI)", runCodecServer},
		"replay":       {"replay a grant's workflow history against this build (auditors)", runReplay},
		"audit":        {"print a grant's timeline from its workflow history; verify, seal or purge the audit chain (auditors)", runAudit},
		"reconcile":    {"compare directory, Temporal and database now and repair toward disabled (--dry-run: print only)", runReconcile},
		"report":       {"write a tenant's access report for a period as CSV or PDF (auditors)", runReport},
	}
}

// usageError is a mistake on the command line: exit status 2 (cli.ExitCode).
type usageError struct{ msg string }

func (e *usageError) Error() string { return e.msg }
func (*usageError) UsageError()     {}

func main() {
	// Gin's debug mode prints every route at start-up; the product logs through slog instead.
	gin.SetMode(gin.ReleaseMode)
	cli.Main("jitaccess", func(ctx context.Context, args []string) error {
		return run(ctx, environment{getenv: os.Getenv, stdout: os.Stdout, stderr: os.Stderr}, args)
	})
}

func run(ctx context.Context, env environment, args []string) error {
	cmds := commands()
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		printUsage(env.stdout, cmds)
		if len(args) == 0 {
			return &usageError{"a subcommand is required"}
		}
		return nil
	}
	cmd, ok := cmds[args[0]]
	if !ok {
		printUsage(env.stderr, cmds)
		return &usageError{fmt.Sprintf("unknown subcommand %q", args[0])}
	}
	return cmd.run(ctx, env, args[1:])
}

func printUsage(w io.Writer, cmds map[string]command) {
	names := make([]string, 0, len(cmds))
	for n := range cmds {
		names = append(names, n)
	}
	sort.Strings(names)
	fmt.Fprintln(w, "usage: jitaccess <subcommand> [flags]\n\nsubcommands:")
	for _, n := range names {
		fmt.Fprintf(w, "  %-10s %s\n", n, cmds[n].summary)
	}
	fmt.Fprintln(w, "\nConfiguration is read from JIT_* environment variables; see README.md.")
}

func runEntraSimCommand(ctx context.Context, _ environment, args []string) error {
	return runEntraSim(ctx, args)
}
