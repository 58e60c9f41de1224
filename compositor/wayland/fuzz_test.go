package wayland

import (
	"context"
	"testing"
	"time"

	"github.com/qube-desktop/qube-desktop/compositor/wire"
)

// interfaces lists every generated interface, in object id order from 2.
var interfaces = []string{
	"wl_registry", "wl_callback", "wl_compositor", "wl_region", "wl_surface",
	"wl_subcompositor", "wl_subsurface", "wl_shm", "wl_shm_pool", "wl_buffer",
	"wl_seat", "wl_pointer", "wl_keyboard", "wl_output",
	"xdg_wm_base", "xdg_positioner", "xdg_surface", "xdg_toplevel", "xdg_popup",
	"zxdg_decoration_manager_v1", "zxdg_toplevel_decoration_v1",
	"wp_viewporter", "wp_viewport",
	"wp_fractional_scale_manager_v1", "wp_fractional_scale_v1",
	"org_kde_kwin_server_decoration_palette_manager", "org_kde_kwin_server_decoration_palette",
}

// FuzzDispatch sends arbitrary compositor bytes to a client holding one
// object of every interface (wl_display is 1, then the list above from 2).
// Whatever arrives, the client reports an error or handles it; it never
// panics.
func FuzzDispatch(f *testing.F) {
	ev := func(sender wire.ObjectID, opcode uint16, fill func(*wire.Builder)) []byte {
		var b wire.Builder
		b.Start(sender, opcode)
		fill(&b)
		m, _, _ := b.Finish()
		return append([]byte(nil), m...)
	}
	f.Add(ev(2, 0, func(b *wire.Builder) { b.Uint(1); b.String("wl_seat", false); b.Uint(7) }))
	f.Add(ev(19, 0, func(b *wire.Builder) { b.Int(640); b.Int(480); b.Array([]byte{1, 0, 0, 0, 4, 0, 0, 0}) }))
	f.Add(ev(13, 0, func(b *wire.Builder) { b.Uint(1); b.Uint(5) })) // keymap without its fd
	f.Add(ev(12, 2, func(b *wire.Builder) { b.Uint(1); b.Uint(0); b.Fixed(wire.FixedFromFloat(1.5)); b.Fixed(-256) }))
	f.Add(ev(1, 1, func(b *wire.Builder) { b.Uint(6) }))
	f.Add(ev(15, 0, func(b *wire.Builder) {
		b.Int(0)
		b.Int(0)
		b.Int(300)
		b.Int(200)
		b.Int(0)
		b.String("", false)
		b.String("HEADLESS-1", false)
		b.Int(0)
	}))
	f.Fuzz(func(t *testing.T, stream []byte) {
		c, s := newPair(t)
		for _, name := range interfaces {
			if err := c.register(newObject(name), 99); err != nil {
				t.Fatal(err)
			}
		}
		if _, err := s.uc.Write(stream); err != nil {
			t.Fatal(err)
		}
		s.uc.CloseWrite()
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		for c.Dispatch(ctx) == nil {
		}
		if ctx.Err() != nil {
			t.Fatal("client did not finish the stream")
		}
	})
}
