package guid_test

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/qube-desktop/qube-desktop/guid"
	"github.com/qube-desktop/qube-desktop/internal/testenv"
)

// TestKWinTitleBarInLabelColour: without a palette option the guid hands
// KWin the label's colour scheme, and KWin's own title bar (above the 2-px
// frame) takes the label colour.
func TestKWinTitleBarInLabelColour(t *testing.T) {
	rt := t.TempDir()
	t.Setenv("XDG_RUNTIME_DIR", rt)
	comp := testenv.StartKWin(t, 800, 600)
	a := newAgent(t)
	startGuid(t, comp, a, guid.Options{})
	a.accept()
	a.create(win, winSpec{x: 40, y: 40, w: cw, h: ch, title: "bash", class: "XTerm", pat: topPixel})
	_, at := find(t, comp, topPixel, cw, ch)

	if _, err := os.Stat(filepath.Join(rt, "qube-desktop/color-schemes/qubes-blue.colors")); err != nil {
		t.Errorf("the label's scheme is not installed: %v", err)
	}
	top := at.Y - 2
	var share float64
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		img := comp.Screenshot(t)
		n := 0
		for y := top - 16; y < top; y++ {
			for x := at.X; x < at.X+cw; x++ {
				if rgb(img.At(x, y)) == blue {
					n++
				}
			}
		}
		if share = float64(n) / float64(16*cw); share >= 0.6 {
			return
		}
	}
	t.Errorf("only %.0f%% of KWin's title bar is the label colour", 100*share)
}
