package hostd

import (
	"sync"

	"github.com/qube-desktop/qube-desktop/internal/adminapi"
)

// subscriberQueue bounds the events queued for one slow admin.Events
// client; one that falls this far behind is disconnected rather than
// allowed to stall the daemon.
const subscriberQueue = 1024

// bus fans events out to admin.Events streams, in emission order.
type bus struct {
	mu   sync.Mutex
	subs map[*subscriber]struct{}
}

type subscriber struct {
	ch      chan adminapi.Event
	dropped chan struct{}
}

func (b *bus) subscribe() *subscriber {
	s := &subscriber{ch: make(chan adminapi.Event, subscriberQueue), dropped: make(chan struct{})}
	b.mu.Lock()
	if b.subs == nil {
		b.subs = map[*subscriber]struct{}{}
	}
	b.subs[s] = struct{}{}
	b.mu.Unlock()
	return s
}

func (b *bus) unsubscribe(s *subscriber) {
	b.mu.Lock()
	delete(b.subs, s)
	b.mu.Unlock()
}

// emit sends an event to every subscriber. subject is the qube, "" for
// app-level events; args alternate key, value.
func (b *bus) emit(subject, name string, args ...string) {
	ev := adminapi.Event{Subject: subject, Name: name}
	for i := 0; i+1 < len(args); i += 2 {
		ev.Args = append(ev.Args, adminapi.Arg{Key: args[i], Value: args[i+1]})
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	for s := range b.subs {
		select {
		case s.ch <- ev:
		default:
			delete(b.subs, s)
			close(s.dropped)
		}
	}
}

// haltWaiters lets callers wait until a qube's domain-shutdown was sent.
type haltWaiters struct {
	mu sync.Mutex
	m  map[string][]chan struct{}
}

func (h *haltWaiters) wait(name string) <-chan struct{} {
	ch := make(chan struct{})
	h.mu.Lock()
	if h.m == nil {
		h.m = map[string][]chan struct{}{}
	}
	h.m[name] = append(h.m[name], ch)
	h.mu.Unlock()
	return ch
}

func (h *haltWaiters) wake(name string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	for _, ch := range h.m[name] {
		close(ch)
	}
	delete(h.m, name)
}
