package guid_test

import (
	"syscall"
	"testing"
	"time"

	"github.com/qube-desktop/qube-desktop/guid"
	"github.com/qube-desktop/qube-desktop/internal/guiproto"
	"github.com/qube-desktop/qube-desktop/internal/testenv"
)

// BenchmarkFrame measures one SHMIMAGE for a 1920x1080 window on weston
// headless: ns/op is the latency from the agent's write to the guid's
// commit on the compositor socket; cpu-ns/frame is the process CPU time
// (guid and the scripted agent) per frame. The guid copies no pixels: the
// compositor reads the region where the agent drew, so B/op is all the
// memory the guid touches per frame.
func BenchmarkFrame(b *testing.B) {
	for _, bc := range []struct {
		name string
		w, h uint32
	}{{"full", 1920, 1080}, {"small", 64, 64}} {
		b.Run(bc.name, func(b *testing.B) {
			comp := testenv.StartWeston(b, 1920, 1200)
			a := newAgent(b)
			handled := make(chan guiproto.Type, 16)
			var o guid.Options
			guid.SetHandled(&o, func(ty guiproto.Type) {
				if ty == guiproto.MsgShmImage {
					handled <- ty
				}
			})
			startGuid(b, comp, a, o)
			a.accept()
			a.create(win, winSpec{w: 1920, h: 1080, title: "bench", class: "Bench", pat: topPixel})
			a.expect("WINDOW_DUMP_ACK", isType(guiproto.MsgWindowDumpAck, win))
			for len(handled) < 2 { // the create's two SHMIMAGEs
				time.Sleep(time.Millisecond)
			}
			for len(handled) > 0 {
				<-handled
			}
			var before, after syscall.Rusage
			_ = syscall.Getrusage(syscall.RUSAGE_SELF, &before)
			b.ReportAllocs()
			b.ResetTimer()
			for i := range b.N {
				x := uint32(i*64) % (1920 - bc.w + 1)
				a.send(win, guiproto.ShmImage{X: int32(x), Y: 0, Width: bc.w, Height: bc.h})
				<-handled
			}
			b.StopTimer()
			_ = syscall.Getrusage(syscall.RUSAGE_SELF, &after)
			cpu := time.Duration(after.Utime.Nano() + after.Stime.Nano() - before.Utime.Nano() - before.Stime.Nano())
			b.ReportMetric(float64(cpu.Nanoseconds())/float64(b.N), "cpu-ns/frame")
		})
	}
}
