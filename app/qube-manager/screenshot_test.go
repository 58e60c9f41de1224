package main

import (
	"bytes"
	"image"
	"image/png"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/qube-desktop/qube-desktop/internal/adminapi"
	"github.com/qube-desktop/qube-desktop/internal/driver/sandbox"
	"github.com/qube-desktop/qube-desktop/internal/qube"
	"github.com/qube-desktop/qube-desktop/internal/testenv"
)

// asMainEnv makes the test binary run main() instead of the tests, so the
// screenshot test runs the real manager (GLFW, software GL) without a
// separate build.
const asMainEnv = "QUBE_MANAGER_TEST_AS_MAIN"

func TestMain(m *testing.M) {
	sandbox.RunInitIfRequested()
	if os.Getenv(asMainEnv) == "1" {
		// Arguments after the binary's name follow the environment's, as
		// when the tray runs this binary with a qube's name.
		os.Args = append(append([]string{os.Args[0]}, filepath.SplitList(os.Getenv(asMainEnv+"_ARGS"))...), os.Args[1:]...)
		main()
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// TestScreenshotUnderXvfb runs the real manager on Xvfb with Mesa's
// software GL against qube-hostd and checks the screen for every label
// colour the qubes have. Set SCREENSHOT_DIR to keep the picture.
func TestScreenshotUnderXvfb(t *testing.T) {
	testenv.NeedCommands(t, "Xvfb", "import")
	c := startHostd(t)
	create(t, c, qube.TemplateVM, "debian-12", "black", "")
	labels := []string{"red", "orange", "green", "blue", "purple"}
	for _, l := range labels {
		create(t, c, qube.AppVM, "work-"+l, l, "debian-12")
	}
	x := testenv.StartXvfb(t, 1280, 800)

	home := t.TempDir()
	startProcess(t, "manager", os.Args[0], append(x.Env(), asMainEnv+"=1", asMainEnv+"_ARGS=-socket"+string(filepath.ListSeparator)+socketOf(c),
		"LIBGL_ALWAYS_SOFTWARE=1", "HOME="+home, "XDG_CONFIG_HOME="+filepath.Join(home, ".config"), "LANG=en_US.UTF-8"))

	var img image.Image
	deadline := time.Now().Add(60 * time.Second)
	for {
		shot, err := exec.Command("import", "-display", x.Display, "-window", "root", "png:-").Output()
		if err == nil {
			if img, err = png.Decode(bytes.NewReader(shot)); err == nil && allLabels(img, labels) {
				if dir := os.Getenv("SCREENSHOT_DIR"); dir != "" {
					os.WriteFile(filepath.Join(dir, "qube-manager-xvfb.png"), shot, 0o644)
				}
				break
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("label swatches not all on screen after 60 s (last capture error: %v)", err)
		}
		time.Sleep(500 * time.Millisecond)
	}
	for _, l := range labels {
		if !allLabels(img, []string{l}) {
			t.Errorf("no %s swatch on screen", l)
		}
	}
}

func allLabels(img image.Image, names []string) bool {
	for _, n := range names {
		l, _ := qube.LabelByName(n)
		if !hasColour(img, l.Color()) {
			return false
		}
	}
	return true
}

// socketOf returns the socket path of a client made by startHostd.
func socketOf(c *adminapi.Client) string { return c.Transport.(adminapi.UnixTransport).Path }
