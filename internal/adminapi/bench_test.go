package adminapi_test

import (
	"context"
	"syscall"
	"testing"
	"time"

	"github.com/qube-desktop/qube-desktop/internal/adminapi"
	"github.com/qube-desktop/qube-desktop/internal/adminapi/adminapitest"
)

// cpuTime is the process's user+system CPU time (client and the in-process
// server together).
func cpuTime(b *testing.B) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkLoadQubes1000: admin.vm.List plus a GetAll for each of 1001
// qubes (1000 AppVMs and dom0), one connection per call, as the manager
// loads at start.
func BenchmarkLoadQubes1000(b *testing.B) {
	srv := adminapitest.NewSynthetic(b, 1000)
	c := adminapi.New(adminapi.UnixTransport{Path: srv.Path})
	ctx := context.Background()
	b.ResetTimer()
	cpu0 := cpuTime(b)
	for b.Loop() {
		qs, err := c.LoadQubes(ctx)
		if err != nil || len(qs) != 1001 || len(qs[1000].Props) != 48 {
			b.Fatalf("%d qubes, %v", len(qs), err)
		}
	}
	b.ReportMetric(float64((cpuTime(b)-cpu0).Milliseconds())/float64(b.N), "cpu-ms/op")
}
