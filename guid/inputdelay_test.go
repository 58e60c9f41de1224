package guid

import (
	"bytes"
	"encoding/binary"
	"io"
	"math"
	"math/rand/v2"
	"sync"
	"testing"
	"time"

	"github.com/qube-desktop/qube-desktop/internal/guiproto"
)

// fakeClock runs timers only when the test advances it.
type fakeClock struct {
	now    time.Time
	timers []*fakeTimer
}

type fakeTimer struct {
	at      time.Time
	f       func()
	stopped bool
}

func (c *fakeClock) Now() time.Time { return c.now }

func (c *fakeClock) AfterFunc(d time.Duration, f func()) func() bool {
	t := &fakeTimer{at: c.now.Add(d), f: f}
	c.timers = append(c.timers, t)
	return func() bool { was := !t.stopped; t.stopped = true; return was }
}

func (c *fakeClock) armed() int {
	n := 0
	for _, t := range c.timers {
		if !t.stopped {
			n++
		}
	}
	return n
}

// advance moves time to now+d, firing timers as they come due.
func (c *fakeClock) advance(d time.Duration) {
	end := c.now.Add(d)
	for {
		var next *fakeTimer
		for _, t := range c.timers {
			if !t.stopped && !t.at.After(end) && (next == nil || t.at.Before(next.at)) {
				next = t
			}
		}
		if next == nil {
			c.now = end
			return
		}
		next.stopped = true
		c.now = next.at
		next.f()
	}
}

type arrival struct {
	at time.Time
	m  guiproto.Message
}

func newFakeDelay(max time.Duration, draw func(uint64) uint64) (*inputDelay, *fakeClock, *[]arrival) {
	c := &fakeClock{now: time.Unix(1000, 0)}
	var got []arrival
	d := newInputDelay(max, func(_ uint32, m guiproto.Message) { got = append(got, arrival{c.now, m}) })
	d.clock, d.draw = c, draw
	return d, c, &got
}

func TestInputDelayKeepsOrderWithinMax(t *testing.T) {
	const max = 300 * time.Millisecond
	rng := rand.New(rand.NewPCG(1, 2))
	var drawn []time.Duration
	d, c, got := newFakeDelay(max, func(n uint64) uint64 {
		if n != 301 {
			t.Fatalf("draw over [0, %d), want [0, 301): whole milliseconds 0..max", n)
		}
		v := rng.Uint64N(n)
		drawn = append(drawn, time.Duration(v)*time.Millisecond)
		return v
	})
	start := c.now
	var sentAt []time.Time
	for i := range 500 {
		sentAt = append(sentAt, c.now)
		d.input(1, guiproto.Motion{X: int32(i)})
		c.advance(time.Duration(rng.IntN(20)) * time.Millisecond)
	}
	c.advance(max)
	if len(*got) != 500 {
		t.Fatalf("%d messages arrived, want 500", len(*got))
	}
	var prev time.Time
	overtaken := 0
	for i, a := range *got {
		if m := a.m.(guiproto.Motion); m.X != int32(i) {
			t.Fatalf("message %d arrived as number %d: order lost", m.X, i)
		}
		wait := a.at.Sub(sentAt[i])
		if wait < drawn[i] || wait > max {
			t.Fatalf("message %d waited %v, drew %v, max %v", i, wait, drawn[i], max)
		}
		if a.at.Before(prev) {
			t.Fatalf("message %d arrived at %v, before the one earlier", i, a.at.Sub(start))
		}
		if wait > drawn[i] {
			overtaken++ // held back behind an earlier, later-due message
		}
		prev = a.at
	}
	if overtaken == 0 {
		t.Fatal("no message was ever held back for order: the test drew no crossing delays")
	}
	if c.armed() != 0 {
		t.Fatalf("%d timers armed with an empty queue", c.armed())
	}
}

func TestInputDelayNotBeforeDue(t *testing.T) {
	d, c, got := newFakeDelay(100*time.Millisecond, func(uint64) uint64 { return 40 })
	d.input(1, guiproto.Keypress{Keycode: 38})
	c.advance(39 * time.Millisecond)
	if len(*got) != 0 {
		t.Fatalf("sent %+v after 39 ms of a 40-ms delay", *got)
	}
	c.advance(time.Millisecond)
	if len(*got) != 1 {
		t.Fatalf("sent %d messages at the 40-ms due time, want 1", len(*got))
	}
}

func TestInputDelayStopDrops(t *testing.T) {
	d, c, got := newFakeDelay(100*time.Millisecond, func(uint64) uint64 { return 50 })
	d.input(1, guiproto.Keypress{Keycode: 38})
	d.stop()
	d.input(1, guiproto.Keypress{Keycode: 39})
	c.advance(time.Second)
	if len(*got) != 0 || c.armed() != 0 {
		t.Fatalf("after stop: sent %+v, %d timers armed", *got, c.armed())
	}
}

func TestInputDelayOffIsPassThrough(t *testing.T) {
	if d := newInputDelay(0, func(uint32, guiproto.Message) {}); d != nil {
		t.Fatal("a zero delay built a delayer")
	}
	h := newHarness(t, Config{Qube: "work"})
	h.mapWindow(1, 0, 0, 10, 10, false, 0)
	h.takeSent()
	h.s.Input(1, guiproto.Keypress{Event: guiproto.KeyPress, Keycode: 38})
	if got := h.takeSent(); len(got) != 1 {
		t.Fatalf("without a delay Input sent %+v at once, want the KEYPRESS", got)
	}
}

func TestUniformRejectsBias(t *testing.T) {
	// For n = 3 the one value 2^64-1 would favour 0; it is drawn again.
	var feed bytes.Buffer
	binary.Write(&feed, binary.LittleEndian, uint64(math.MaxUint64))
	binary.Write(&feed, binary.LittleEndian, uint64(math.MaxUint64-1))
	fill := func(b []byte) {
		if _, err := io.ReadFull(&feed, b); err != nil {
			t.Fatal("uniform read past the values it should have accepted")
		}
	}
	if v := uniform(fill, 3); v != (math.MaxUint64-1)%3 {
		t.Fatalf("uniform = %d, want %d from the second draw", v, uint64(math.MaxUint64-1)%3)
	}
	if feed.Len() != 0 {
		t.Fatal("uniform did not reject 2^64-1 for n = 3")
	}
	// Powers of two reject nothing.
	feed.Reset()
	binary.Write(&feed, binary.LittleEndian, uint64(math.MaxUint64))
	if v := uniform(fill, 1024); v != 1023 {
		t.Fatalf("uniform(2^64-1, 1024) = %d, want 1023", v)
	}
	for range 1000 {
		if v := cryptoUniform(5001); v > 5000 {
			t.Fatalf("cryptoUniform(5001) = %d", v)
		}
	}
}

// TestSessionDelaysInput goes through a Session on the real clock: input
// arrives in order and never before the delay drawn for it, while a
// non-input message (CLOSE) is sent at once.
func TestSessionDelaysInput(t *testing.T) {
	var (
		mu  sync.Mutex
		got []arrival
	)
	send := func(_ uint32, m guiproto.Message) {
		mu.Lock()
		got = append(got, arrival{time.Now(), m})
		mu.Unlock()
	}
	h := newHarness(t, Config{Qube: "work", EventsMaxDelay: 80 * time.Millisecond})
	defer h.s.End()
	h.mapWindow(win, 0, 0, 10, 10, false, 0)
	h.takeSent()
	// Delayed input arrives on the timer's goroutine, the rest in h.sent.
	h.s.delay.send = send
	// Falling delays: each message must wait for the one before it.
	draws := []uint64{60, 40, 20, 0}
	i := 0
	h.s.delay.draw = func(uint64) uint64 { v := draws[i]; i++; return v }
	start := time.Now()
	for k := range draws {
		h.s.Input(win, guiproto.Keypress{Event: guiproto.KeyPress, Keycode: uint32(38 + k)})
	}
	h.s.Closed(win)
	if at := h.takeSent(); len(at) != 1 || at[0].m != (guiproto.Close{}) {
		t.Fatalf("sent %+v at once, want only the CLOSE", at)
	}
	mu.Lock()
	if len(got) != 0 {
		t.Fatalf("input %+v arrived before its delay", got)
	}
	mu.Unlock()
	deadline := time.Now().Add(5 * time.Second)
	for {
		mu.Lock()
		n := len(got)
		mu.Unlock()
		if n == len(draws) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d of %d keys arrived within 5 s", n, len(draws))
		}
		time.Sleep(5 * time.Millisecond)
	}
	for k, a := range got {
		if kp := a.m.(guiproto.Keypress); kp.Keycode != uint32(38+k) {
			t.Fatalf("key %d arrived as number %d: order lost", kp.Keycode, k)
		}
		if wait := a.at.Sub(start); wait < 60*time.Millisecond {
			t.Fatalf("key %d arrived after %v, before the 60 ms the first key drew", k, wait)
		}
	}
}
