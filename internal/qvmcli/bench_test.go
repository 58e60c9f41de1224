package qvmcli_test

import (
	"context"
	"io"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/qube-desktop/qube-desktop/internal/adminapi/adminapitest"
	"github.com/qube-desktop/qube-desktop/internal/qvmcli"
)

// BenchmarkLs1000 runs "qvm ls" against a qubesd stand-in with 1000 qubes.
// cpu-ms/op counts the client and the in-process server together.
func BenchmarkLs1000(b *testing.B) {
	srv := adminapitest.NewSynthetic(b, 1000)
	var ru0, ru1 syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru0)
	for b.Loop() {
		var out strings.Builder
		code := qvmcli.Main(context.Background(), []string{"--socket", srv.Path, "ls"},
			qvmcli.IO{Stdin: strings.NewReader(""), Stdout: &out, Stderr: io.Discard})
		if code != 0 || strings.Count(out.String(), "\n") != 1002 {
			b.Fatalf("exit %d, %d lines", code, strings.Count(out.String(), "\n"))
		}
	}
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru1)
	cpu := time.Duration(ru1.Utime.Nano() + ru1.Stime.Nano() - ru0.Utime.Nano() - ru0.Stime.Nano())
	b.ReportMetric(float64(cpu.Milliseconds())/float64(b.N), "cpu-ms/op")
}
