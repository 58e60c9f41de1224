// Package qvmcli is the qvm command line: one binary whose subcommands
// mirror Qubes' qvm-* tools, as thin clients of the Admin API.
package qvmcli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"sort"
	"strings"

	"github.com/qube-desktop/qube-desktop/internal/adminapi"
)

// Exit codes, as Qubes' tools use them.
const (
	ExitOK    = 0
	ExitError = 1 // the call failed
	ExitUsage = 2 // the command line is wrong
)

// IO is where a command reads and writes.
type IO struct {
	Stdin          io.Reader
	Stdout, Stderr io.Writer
}

// command is one subcommand.
type command struct {
	summary string
	usage   string // arguments after the command name
	// run parses its flags on fs (already created) and does the work.
	setup func(fs *flag.FlagSet) func(ctx context.Context, e *env, args []string) error
	// positional arguments after which every argument is positional (run's command line)
	stopAfter int
}

var commands = map[string]command{}

// env is what a running command has.
type env struct {
	IO
	c    *adminapi.Client
	name string // "qvm ls"
}

// usageError is a command-line mistake: exit code 2.
type usageError struct{ msg string }

func (u usageError) Error() string { return u.msg }

func usagef(format string, a ...any) error { return usageError{fmt.Sprintf(format, a...)} }

// Main runs qvm with args (without the program name) and returns the exit code.
func Main(ctx context.Context, args []string, stdio IO) int {
	top := flag.NewFlagSet("qvm", flag.ContinueOnError)
	top.SetOutput(io.Discard)
	socket := top.String("socket", "", "Admin API socket (default $QUBESD_SOCKET or "+adminapi.DefaultSocket+"; inside a qube qrexec-client-vm is used)")
	if err := top.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			topUsage(stdio.Stdout, top)
			return ExitOK
		}
		fmt.Fprintf(stdio.Stderr, "qvm: error: %v\n", err)
		return ExitUsage
	}
	args = top.Args()
	if len(args) == 0 || args[0] == "help" {
		topUsage(stdio.Stderr, top)
		return ExitUsage
	}
	cmd, ok := commands[args[0]]
	if !ok {
		fmt.Fprintf(stdio.Stderr, "qvm: error: unknown command %q (run 'qvm --help' for the list)\n", args[0])
		return ExitUsage
	}
	e := &env{IO: stdio, name: "qvm " + args[0]}
	fs := flag.NewFlagSet(e.name, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	run := cmd.setup(fs)
	pos, err := parse(fs, args[1:], cmd.stopAfter)
	if errors.Is(err, flag.ErrHelp) {
		fmt.Fprintf(stdio.Stdout, "usage: %s %s\n\n%s\n", e.name, cmd.usage, cmd.summary)
		if hasFlags(fs) {
			fmt.Fprintln(stdio.Stdout, "\noptions:")
			fs.SetOutput(stdio.Stdout)
			fs.PrintDefaults()
		}
		return ExitOK
	}
	if err == nil {
		e.c = adminapi.New(adminapi.TransportFromEnv(*socket))
		err = run(ctx, e, pos)
	}
	var ue usageError
	switch {
	case err == nil:
		return ExitOK
	case errors.As(err, &ue) || isFlagError(err):
		fmt.Fprintf(stdio.Stderr, "usage: %s %s\n%s: error: %v\n", e.name, cmd.usage, e.name, err)
		return ExitUsage
	default:
		fmt.Fprintf(stdio.Stderr, "%s: error: %s\n", e.name, oneLine(err))
		return ExitError
	}
}

// flagErr marks errors of the flag package (unknown flag, missing value).
type flagErr struct{ error }

func isFlagError(err error) bool { var f flagErr; return errors.As(err, &f) }

// parse lets flags and positional arguments mix, as argparse does; "--"
// ends the flags, and after stopAfter positional arguments everything is
// positional (so "qvm run work xterm -e top" passes -e to the qube).
func parse(fs *flag.FlagSet, args []string, stopAfter int) ([]string, error) {
	var pos []string
	for len(args) > 0 {
		if stopAfter > 0 && len(pos) >= stopAfter {
			return append(pos, args...), nil
		}
		if args[0] == "--" {
			return append(pos, args[1:]...), nil
		}
		if strings.HasPrefix(args[0], "-") && args[0] != "-" {
			rest := args
			if err := fs.Parse(rest); err != nil {
				if errors.Is(err, flag.ErrHelp) {
					return nil, err
				}
				return nil, flagErr{err}
			}
			// fs.Parse stopped at a positional argument or consumed "--".
			consumed := len(rest) - len(fs.Args())
			if consumed > 0 && rest[consumed-1] == "--" {
				return append(pos, fs.Args()...), nil
			}
			args = fs.Args()
			continue
		}
		pos = append(pos, args[0])
		args = args[1:]
	}
	return pos, nil
}

func hasFlags(fs *flag.FlagSet) bool {
	n := 0
	fs.VisitAll(func(*flag.Flag) { n++ })
	return n > 0
}

func topUsage(w io.Writer, top *flag.FlagSet) {
	fmt.Fprintln(w, "usage: qvm [--socket PATH] COMMAND [ARGS...]\n\ncommands:")
	names := make([]string, 0, len(commands))
	for n := range commands {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		fmt.Fprintf(w, "  %-9s %s\n", n, commands[n].summary)
	}
	fmt.Fprintln(w, "\nRun 'qvm COMMAND --help' for a command's options.\n\noptions:")
	top.SetOutput(w)
	top.PrintDefaults()
}

// oneLine renders an error as the one line a person reads: qubesd's message
// without the exception class, newlines folded.
func oneLine(err error) string {
	var e *adminapi.Error
	msg := err.Error()
	if errors.As(err, &e) && e.Message != "" {
		msg = e.Message
	}
	return strings.Join(strings.Fields(msg), " ")
}

// need checks the number of positional arguments.
func need(args []string, min, max int, what string) error {
	if len(args) < min {
		return usagef("missing %s", what)
	}
	if max >= 0 && len(args) > max {
		return usagef("too many arguments: %s", strings.Join(args[max:], " "))
	}
	return nil
}
