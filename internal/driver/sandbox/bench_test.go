package sandbox

import (
	"testing"
	"time"

	"github.com/qube-desktop/qube-desktop/internal/driver"
	"github.com/qube-desktop/qube-desktop/internal/testenv"
)

func benchDriver(b *testing.B) *Driver {
	testenv.NeedCommands(b, "bwrap")
	d, err := New(Config{})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { d.Close() })
	return d
}

// BenchmarkStart is the time from Start to a qube whose init serves requests.
func BenchmarkStart(b *testing.B) {
	d := benchDriver(b)
	home := b.TempDir()
	for b.Loop() {
		if err := d.Start(driver.Spec{Name: "bench", Home: home}); err != nil {
			b.Fatal(err)
		}
		b.StopTimer()
		d.Kill("bench")
		<-d.Halted()
		b.StartTimer()
	}
}

// BenchmarkShutdown is a graceful shutdown of an idle qube.
func BenchmarkShutdown(b *testing.B) {
	d := benchDriver(b)
	for b.Loop() {
		b.StopTimer()
		if err := d.Start(driver.Spec{Name: "bench"}); err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
		if err := d.Shutdown("bench", 10*time.Second); err != nil {
			b.Fatal(err)
		}
		<-d.Halted()
	}
}

// BenchmarkRun starts /bin/true in a running qube and waits for its exit.
func BenchmarkRun(b *testing.B) {
	d := benchDriver(b)
	if err := d.Start(driver.Spec{Name: "bench"}); err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		p, err := d.Run("bench", []string{"true"}, driver.RunOptions{})
		if err != nil {
			b.Fatal(err)
		}
		if code, err := p.Wait(); code != 0 || err != nil {
			b.Fatal(code, err)
		}
	}
}
