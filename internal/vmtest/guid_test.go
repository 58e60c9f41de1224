package vmtest

import (
	"fmt"
	"image"
	"image/color"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/qube-desktop/qube-desktop/internal/testenv"
)

// labelRed is the frame colour of a qube labelled red.
var labelRed = color.RGBA{0xcc, 0x00, 0x00, 0xff}

// showOnSway connects the real qube-guid to the guest's agent, with the
// region file as its shared region, and finds the guest window's pixels
// on sway's screen inside a frame of the label colour. (Sway, because on
// weston 10 the guid showed this window's frame with white content when
// this test was written.)
func (v *vm) showOnSway(t *testing.T) {
	comp := testenv.StartSway(t, 800, 600)
	bin := filepath.Join(t.TempDir(), "qube-guid")
	if out, err := exec.Command("go", "build", "-o", bin, "github.com/qube-desktop/qube-desktop/app/qube-guid").CombinedOutput(); err != nil {
		t.Fatalf("build qube-guid: %v\n%s", err, out)
	}
	cmd := exec.Command(bin, "-qube", "vmtest", "-label", "red", "-socket", v.socket, "-region", v.region.Name(),
		"-display", comp.SocketPath(), "-border", "2", "-titlebar", "20")
	// Its own runtime dir, as in a user session: the guid keeps the global
	// clipboard there.
	cmd.Env = append(os.Environ(), "XDG_RUNTIME_DIR="+t.TempDir())
	var logs testenv.LogBuffer
	cmd.Stdout, cmd.Stderr = &logs, &logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() {
		cmd.Process.Signal(os.Interrupt)
		cmd.Wait()
		t.Logf("qube-guid output:\n%s", logs.String())
	}()

	// sway tiles the window to fill the output: the guid asks the agent to
	// resize it, and X repeats the background pixmap over the new size.
	deadline := time.Now().Add(60 * time.Second)
	for {
		img := comp.Screenshot(t)
		problem := checkTiled(img)
		if problem == "" {
			t.Logf("guest window shown, resized by sway, %v after QEMU started", time.Since(v.start).Round(time.Millisecond))
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("after 60 s, sway's screen is not the guest's tiled pattern in a red frame: %s", problem)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// checkTiled describes what is wrong with img, or returns "": the screen
// must show a content area filled with Pattern repeated every winW×winH
// pixels, with a 2-px frame of the label colour on every side.
func checkTiled(img image.Image) string {
	at, ok := findPattern(img)
	if !ok {
		return fmt.Sprintf("no %dx%d Pattern block on screen", winW, winH)
	}
	b := img.Bounds()
	w, h := 0, 0
	for at.X+w < b.Max.X && !sameRGB(img.At(at.X+w, at.Y), labelRed) {
		w++
	}
	for at.Y+h < b.Max.Y && !sameRGB(img.At(at.X, at.Y+h), labelRed) {
		h++
	}
	if w <= winW || h <= winH {
		return fmt.Sprintf("content at %v is %dx%d, not yet resized by the tiling", at, w, h)
	}
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			if want := rgbOf(Pattern(x%winW, y%winH)); !sameRGB(img.At(at.X+x, at.Y+y), want) {
				return fmt.Sprintf("content pixel (%d,%d) of %dx%d at %v is %v, want %v", x, y, w, h, at, img.At(at.X+x, at.Y+y), want)
			}
		}
	}
	const border = 2
	for i := 1; i <= border; i++ {
		for y := at.Y - border; y < at.Y+h+border; y++ {
			for _, x := range []int{at.X - i, at.X + w - 1 + i} {
				if !sameRGB(img.At(x, y), labelRed) {
					return fmt.Sprintf("frame pixel (%d,%d) is %v, want the red label", x, y, img.At(x, y))
				}
			}
		}
		for x := at.X; x < at.X+w; x++ {
			for _, y := range []int{at.Y - i, at.Y + h - 1 + i} {
				if !sameRGB(img.At(x, y), labelRed) {
					return fmt.Sprintf("frame pixel (%d,%d) is %v, want the red label", x, y, img.At(x, y))
				}
			}
		}
	}
	return ""
}

// findPattern returns the top-left corner of the whole Pattern window on
// screen, if it is there pixel for pixel.
func findPattern(img image.Image) (image.Point, bool) {
	b := img.Bounds()
	// (5, 5) of the pattern is a colour no frame or background has; check
	// the whole window only where it matches.
	probe := rgbOf(Pattern(5, 5))
	for y := b.Min.Y + 5; y < b.Max.Y; y++ {
		for x := b.Min.X + 5; x < b.Max.X; x++ {
			if sameRGB(img.At(x, y), probe) && matches(img, image.Pt(x-5, y-5)) {
				return image.Pt(x-5, y-5), true
			}
		}
	}
	return image.Point{}, false
}

func matches(img image.Image, at image.Point) bool {
	for y := 0; y < winH; y++ {
		for x := 0; x < winW; x++ {
			if !sameRGB(img.At(at.X+x, at.Y+y), rgbOf(Pattern(x, y))) {
				return false
			}
		}
	}
	return true
}

func rgbOf(c uint32) color.RGBA {
	return color.RGBA{uint8(c >> 16), uint8(c >> 8), uint8(c), 0xff}
}

func sameRGB(a, b color.Color) bool {
	ar, ag, ab, _ := a.RGBA()
	br, bg, bb, _ := b.RGBA()
	return ar>>8 == br>>8 && ag>>8 == bg>>8 && ab>>8 == bb>>8
}
