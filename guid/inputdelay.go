package guid

import (
	"crypto/rand"
	"encoding/binary"
	"math"
	"sync"
	"time"

	"github.com/qube-desktop/qube-desktop/internal/guiproto"
)

// MaxEventsDelay is the largest events_max_delay (spec §5.6).
const MaxEventsDelay = 5000 * time.Millisecond

// inputDelay hides the timing of keystrokes and pointer moves from the
// qube (spec §5.6, events_max_delay): each input message waits a random
// time in [0, max] from the OS CSPRNG, and never leaves before an earlier
// one, so the order is kept. Only input goes through it: configures, acks
// and CLOSE are sent at once (and may overtake delayed input), as Qubes
// delays only X input events.
type inputDelay struct {
	max   time.Duration
	send  Sender // called from the timer's goroutine
	clock clock
	draw  func(n uint64) uint64 // uniform in [0, n)

	mu      sync.Mutex
	q       []delayed
	last    time.Time   // due time of the latest message: dues never go back
	timer   func() bool // stops the timer armed for q[0]; nil if none
	stopped bool
}

type delayed struct {
	due    time.Time
	window uint32
	m      guiproto.Message
}

// clock is time, replaced in the tests.
type clock interface {
	Now() time.Time
	AfterFunc(d time.Duration, f func()) (stop func() bool)
}

type realClock struct{}

func (realClock) Now() time.Time { return time.Now() }
func (realClock) AfterFunc(d time.Duration, f func()) func() bool {
	return time.AfterFunc(d, f).Stop
}

// newInputDelay delays input by up to max before send; with max 0 (off)
// it returns nil and input costs no timer.
func newInputDelay(max time.Duration, send Sender) *inputDelay {
	if max <= 0 {
		return nil
	}
	return &inputDelay{max: max, send: send, clock: realClock{}, draw: cryptoUniform}
}

// input queues one input message.
func (d *inputDelay) input(window uint32, m guiproto.Message) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.stopped {
		return
	}
	now := d.clock.Now()
	due := now.Add(time.Duration(d.draw(uint64(d.max/time.Millisecond)+1)) * time.Millisecond)
	if due.Before(d.last) {
		due = d.last
	}
	d.last = due
	d.q = append(d.q, delayed{due, window, m})
	if d.timer == nil { // otherwise armed for q[0], which is due first
		d.timer = d.clock.AfterFunc(due.Sub(now), d.fire)
	}
}

// fire sends what is due, in order, and waits for the rest.
func (d *inputDelay) fire() {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.timer = nil
	if d.stopped {
		return
	}
	now := d.clock.Now()
	n := 0
	for ; n < len(d.q) && !d.q[n].due.After(now); n++ {
		d.send(d.q[n].window, d.q[n].m)
		d.q[n] = delayed{}
	}
	d.q = d.q[n:]
	if len(d.q) > 0 {
		d.timer = d.clock.AfterFunc(d.q[0].due.Sub(now), d.fire)
	}
}

// stop drops what is queued (the session is over) and sends nothing more.
func (d *inputDelay) stop() {
	if d == nil {
		return
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	d.stopped = true
	d.q = nil
	if d.timer != nil {
		d.timer()
		d.timer = nil
	}
}

func cryptoUniform(n uint64) uint64 {
	return uniform(func(b []byte) { rand.Read(b) }, n)
}

// uniform returns a number in [0, n) from random bytes: it rejects the
// top values of the uint64 range that would favour small results (modulo
// bias).
func uniform(fill func([]byte), n uint64) uint64 {
	// Accept v <= limit: limit+1 is the largest multiple of n within 2^64.
	limit := uint64(math.MaxUint64) - (math.MaxUint64%n+1)%n
	var b [8]byte
	for {
		fill(b[:])
		if v := binary.LittleEndian.Uint64(b[:]); v <= limit {
			return v % n
		}
	}
}
