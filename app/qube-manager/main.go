package main

import (
	"fyne.io/fyne/v2/app"
	"fyne.io/fyne/v2/widget"
)

func main() {
	a := app.NewWithID("org.qubedesktop.QubeManager")
	w := a.NewWindow("Qube Manager")
	w.SetContent(widget.NewLabel("hello"))
	w.ShowAndRun()
}
