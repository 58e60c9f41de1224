// Command qvm manages qubes through the Admin API: qvm ls, start, shutdown,
// prefs, create, remove, clone and more (see qvm --help).
package main

import (
	"context"
	"os"
	"os/signal"

	"github.com/qube-desktop/qube-desktop/internal/qvmcli"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	code := qvmcli.Main(ctx, os.Args[1:], qvmcli.IO{Stdin: os.Stdin, Stdout: os.Stdout, Stderr: os.Stderr})
	stop()
	os.Exit(code)
}
