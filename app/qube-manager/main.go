// Command qube-manager is the Qube Manager: a table of qubes with their
// state and load, and the actions and dialogs to manage them, talking to
// qubesd or qube-hostd over the Admin API.
//
// `fyne package --src app/qube-manager --target linux` packages it from
// FyneApp.toml here (its icon path is relative to this folder); fyne
// rewrites that file, bumping Build.
package main

import (
	"context"
	"flag"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/app"

	"github.com/qube-desktop/qube-desktop/assets"
	"github.com/qube-desktop/qube-desktop/gui"
	"github.com/qube-desktop/qube-desktop/internal/adminapi"
)

// title is also the X11 WM_CLASS GLFW gives the window, which the desktop
// entry's StartupWMClass must match.
const title = "Qube Manager"

func main() {
	socket := flag.String("socket", "", "Admin API socket (default $"+adminapi.SocketEnv+" or "+adminapi.DefaultSocket+")")
	settings := flag.String("settings", "", "open the settings of this qube at once (the tray's Settings item)")
	flag.Parse()

	a := app.NewWithID("org.qubedesktop.QubeManager")
	a.SetIcon(fyne.NewStaticResource("qube-manager.png", assets.ManagerIcon))
	w := a.NewWindow(title)
	m := gui.New(w, backend{adminapi.New(adminapi.TransportFromEnv(*socket))}, a.Preferences())
	if *settings != "" {
		m.ShowSettingsOnLoad(*settings)
	}
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
