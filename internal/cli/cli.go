// Package cli is the part of main every jitaccess command shares: a context cancelled on
// SIGINT or SIGTERM, the error printed under the command's name, and the exit status.
package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
)

// Main runs run with the process's arguments (without the program name) and exits as ExitCode
// says when it fails.
func Main(name string, run func(ctx context.Context, args []string) error) {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:])
	stop()
	if code := Report(os.Stderr, name, err); code != 0 {
		os.Exit(code)
	}
}

// Report prints err under the command's name and returns the exit status: 0 without an
// error, 2 for a mistake on the command line, 1 for anything else.
func Report(w io.Writer, name string, err error) int {
	if err == nil {
		return 0
	}
	fmt.Fprintln(w, name+": "+err.Error())
	return ExitCode(err)
}

// ExitCode is 2 for flag.ErrHelp and for an error whose chain holds a usage mistake (an error
// with a UsageError method), else 1.
func ExitCode(err error) int {
	var u interface{ UsageError() }
	if errors.Is(err, flag.ErrHelp) || errors.As(err, &u) {
		return 2
	}
	return 1
}
