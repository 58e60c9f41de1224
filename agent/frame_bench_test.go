package agent

import (
	"syscall"
	"testing"
	"time"

	"github.com/jezek/xgb/xproto"

	"github.com/qube-desktop/qube-desktop/internal/guiproto"
	"github.com/qube-desktop/qube-desktop/internal/testenv"
)

// BenchmarkAgentFrame measures the agent's whole path for one frame: an X
// client repaints (a server-side fill, so the client costs nearly
// nothing), the agent takes the damage, copies it into the region and the
// scripted daemon receives the SHMIMAGE. cpu-µs/frame is the CPU time of
// this process (agent, client and daemon stubs), not of Xvfb.
//
//	go test ./agent -run '^$' -bench AgentFrame -count 5
func BenchmarkAgentFrame(b *testing.B) {
	xv := testenv.StartXvfb(b, 1920, 1080)
	for _, c := range []struct {
		name string
		r    Rect
	}{{"full1920x1080", Rect{0, 0, 1920, 1080}}, {"damage200x40", Rect{300, 500, 200, 40}}} {
		b.Run(c.name, func(b *testing.B) {
			socket, region := startAgent(b, xv.Display)
			d := dialDaemon(b, socket, region)
			tc := newTestClient(b, xv.Display, 0, 0, 1920, 1080, false)
			xproto.MapWindow(tc.c, tc.win)
			id := uint32(tc.win)
			expect[guiproto.MapInfo](d, id)
			d.quiet(200 * time.Millisecond)
			gc := tc.gc
			var before, after syscall.Rusage
			syscall.Getrusage(syscall.RUSAGE_SELF, &before)
			b.ResetTimer()
			for i := 0; b.Loop(); i++ {
				xproto.ChangeGC(tc.c, gc, xproto.GcForeground, []uint32{uint32(i * 0x010203 & 0xffffff)})
				xproto.PolyFillRectangle(tc.c, xproto.Drawable(tc.win), gc,
					[]xproto.Rectangle{{X: int16(c.r.X), Y: int16(c.r.Y), Width: uint16(c.r.W), Height: uint16(c.r.H)}})
				// One frame is done when the daemon has been told about
				// the whole repainted area.
				got := 0
				for got < c.r.W*c.r.H {
					s := expect[guiproto.ShmImage](d, id)
					got += int(s.Width * s.Height)
				}
			}
			b.StopTimer()
			syscall.Getrusage(syscall.RUSAGE_SELF, &after)
			cpu := time.Duration(after.Utime.Nano() + after.Stime.Nano() - before.Utime.Nano() - before.Stime.Nano())
			b.ReportMetric(float64(cpu.Microseconds())/float64(b.N), "cpu-µs/frame")
		})
	}
}
