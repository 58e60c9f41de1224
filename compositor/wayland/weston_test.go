package wayland_test

import (
	"errors"
	"testing"

	"github.com/qube-desktop/qube-desktop/compositor/wayland"
	"github.com/qube-desktop/qube-desktop/internal/testenv"
)

func TestRealCompositorGlobalsAndErrors(t *testing.T) {
	comp := testenv.StartWeston(t, 640, 480)
	t.Setenv("XDG_RUNTIME_DIR", comp.RuntimeDir)
	t.Setenv("WAYLAND_DISPLAY", comp.Display)
	c, err := wayland.Connect("")
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()

	var offered uint32
	for _, g := range c.Globals() {
		if g.Interface == "wl_compositor" {
			offered = g.Version
		}
	}
	if offered == 0 {
		t.Fatalf("no wl_compositor among %v", c.Globals())
	}
	comp4 := new(wayland.WlCompositor)
	if err := c.Bind(comp4, 99); err != nil {
		t.Fatal(err)
	}
	if want := min(offered, comp4.MaxVersion()); comp4.Version() != want {
		t.Errorf("bound wl_compositor v%d, want v%d", comp4.Version(), want)
	}
	if err := c.Bind(new(wayland.ZxdgDecorationManagerV1), 1); err == nil {
		t.Error("bound xdg-decoration, which weston does not offer")
	}

	shm := new(wayland.WlShm)
	if err := c.Bind(shm, 1); err != nil {
		t.Fatal(err)
	}
	mem, err := wayland.NewMemfd("pool", 4096)
	if err != nil {
		t.Fatal(err)
	}
	defer mem.Close()
	pool, err := shm.CreatePool(int(mem.File.Fd()), 4096)
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Roundtrip(); err != nil {
		t.Fatal(err)
	}
	// 100x100 pixels do not fit in 4096 bytes: weston must reject it.
	if _, err := pool.CreateBuffer(0, 100, 100, 400, wayland.WlShmFormatXrgb8888); err != nil {
		t.Fatal(err)
	}
	err = c.Roundtrip()
	var pe *wayland.ProtocolError
	if !errors.As(err, &pe) || pe.Interface != "wl_shm_pool" || pe.Code != uint32(wayland.WlShmErrorInvalidStride) {
		t.Fatalf("oversized buffer: got %v, want a wl_shm_pool invalid_stride protocol error", err)
	}
	if c.Err() == nil {
		t.Error("client still usable after a protocol error")
	}
}
