// Command qube-manager is the Qube Manager: a table of qubes with their
// state and load, and the actions and dialogs to manage them, talking to
// qubesd or qube-hostd over the Admin API.
package main

import (
	"context"
	"flag"

	"fyne.io/fyne/v2/app"

	"github.com/qube-desktop/qube-desktop/gui"
	"github.com/qube-desktop/qube-desktop/internal/adminapi"
)

func main() {
	socket := flag.String("socket", "", "Admin API socket (default $"+adminapi.SocketEnv+" or "+adminapi.DefaultSocket+")")
	flag.Parse()

	a := app.NewWithID("org.qubedesktop.QubeManager")
	w := a.NewWindow("Qube Manager")
	m := gui.New(w, backend{adminapi.New(adminapi.TransportFromEnv(*socket))}, a.Preferences())
	w.SetContent(m.Content())
	w.Resize(m.WindowSize())
	w.SetCloseIntercept(func() {
		m.SaveWindowSize(w.Canvas().Size())
		w.Close()
	})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	m.Run(ctx)
	w.ShowAndRun()
}
