package hostile_test

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/qube-desktop/qube-desktop/internal/clipboard"
	"github.com/qube-desktop/qube-desktop/internal/guiproto"
	"github.com/qube-desktop/qube-desktop/internal/policy"
)

// The clipboard isolation property (issue 8, item 4) over the pieces the
// guid is built from: each of three qubes' daemons is simulated by the
// glue the guid uses (route a key to the
// focused qube's daemon only, match its hotkeys, hold one copy request,
// call the global clipboard), over the real pieces: clipboard.Hotkey,
// clipboard.Request, one clipboard.Store per daemon on a shared directory
// (files and flock as between processes), and a policy directory read by
// policy.ClipboardPaste. Random sequences of focus changes, key presses
// and clipboard data from hostile agents (requested or not, empty,
// oversized, the "too big" marker) are checked step by step against a
// model, and over the whole run against the invariant: a qube receives
// clipboard data only from a paste hotkey pressed while its own window had
// focus, at most once per copy, never data the policy denies.

var clipSeed = flag.Uint64("clipseed", 0, "seed of TestClipboardIsolation's random sequences; 0 for a random one")

// The policy of the test: vault's clipboard never leaves it, personal's
// never reaches work, work → personal asks (allowed for the hotkey).
const clipboardPolicy = `qubes.ClipboardPaste * vault @anyvm deny
qubes.ClipboardPaste * personal work deny
qubes.ClipboardPaste * work personal ask
qubes.ClipboardPaste * @anyvm @anyvm allow
`

// policyAllows is the same policy, written independently.
func policyAllows(source, target string) bool {
	return source != "vault" && !(source == "personal" && target == "work")
}

// X keycodes of the US layout.
var keycodes = map[uint32]uint32{'c': 54, 'v': 55, 'x': 53}

func keycodeOf(keysym uint32) (uint32, bool) { kc, ok := keycodes[keysym]; return kc, ok }

// simDaemon is one qube's daemon and agent as the property needs them.
type simDaemon struct {
	name  string
	cfg   clipboard.Config
	store *clipboard.Store
	req   clipboard.Request
}

// copyRecord is a copy that reached the global clipboard.
type copyRecord struct {
	source    string
	data      []byte
	delivered int
}

// clipModel is what the global clipboard must hold.
type clipModel struct {
	buf   *copyRecord
	lastT uint32 // X time of the last operation written to the metadata
	set   bool
	// pending is each qube's outstanding copy request: its hotkey time.
	pending map[string]uint32
}

// stale is the daemon's rule: an operation at or before the last one is dropped.
func (m *clipModel) stale(t uint32) bool { return m.set && m.lastT-t < 1<<31 }

// policyDir writes clipboardPolicy into a policy directory under dir.
func policyDir(t *testing.T, dir string) string {
	t.Helper()
	pdir := filepath.Join(dir, "policy")
	if err := os.Mkdir(pdir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(pdir, "30-hostile.policy"), []byte(clipboardPolicy), 0o644); err != nil {
		t.Fatal(err)
	}
	return pdir
}

func TestClipboardIsolation(t *testing.T) {
	dir := t.TempDir()
	pdir := policyDir(t, dir)
	qubes := func(name string) (policy.Qube, error) {
		switch name {
		case "work", "personal", "vault":
			return policy.Qube{Type: "AppVM"}, nil
		}
		return policy.Qube{}, policy.ErrNoQube
	}
	decider := policy.ClipboardPaste{Dir: pdir, Qubes: qubes}
	altPaste, err := clipboard.ParseHotkey("Ctrl-Alt-v")
	if err != nil {
		t.Fatal(err)
	}
	configs := []clipboard.Config{
		clipboard.DefaultConfig,
		{Copy: clipboard.DefaultCopy, Paste: altPaste, MaxSize: clipboard.DefaultConfig.MaxSize},
		{Copy: clipboard.DefaultCopy, Paste: clipboard.DefaultPaste, MaxSize: guiproto.MinClipboardBuffer},
	}
	states := []uint32{
		clipboard.ControlMask | clipboard.ShiftMask,
		clipboard.ControlMask | clipboard.ShiftMask | clipboard.Mod2Mask, // NumLock is ignored
		clipboard.ControlMask | clipboard.ShiftMask | clipboard.LockMask, // so is CapsLock
		clipboard.ControlMask | clipboard.Mod1Mask,
		clipboard.ControlMask | clipboard.ShiftMask | clipboard.Mod1Mask,
		clipboard.ControlMask,
	}

	seed := *clipSeed
	if seed == 0 {
		seed = rand.Uint64()
	}
	t.Logf("seed %d (repeat a run with -clipseed %d)", seed, seed)
	rng := rand.New(rand.NewPCG(seed, 0))
	const runs = 100
	var copies, pastes, denied int
	for run := range runs {
		cdir := filepath.Join(dir, fmt.Sprintf("run%d", run))
		var ds []*simDaemon
		for i, name := range []string{"work", "personal", "vault"} {
			s, err := clipboard.Open(cdir)
			if err != nil {
				t.Fatal(err)
			}
			ds = append(ds, &simDaemon{name: name, cfg: configs[i], store: s})
		}
		m := &clipModel{pending: map[string]uint32{}}
		var records []*copyRecord
		focused := -1
		now := uint32(1000)
		var trace []string
		fail := func(format string, args ...any) {
			t.Helper()
			t.Fatalf("run %d (seed %d), after %q: %s", run, seed, trace, fmt.Sprintf(format, args...))
		}
		for range 80 {
			now += 1 + rng.Uint32N(3)
			switch op := rng.IntN(10); {
			case op < 2: // the user focuses a window, or the desktop
				focused = rng.IntN(4) - 1
				trace = append(trace, fmt.Sprintf("focus %d", focused))
			case op < 6: // a key press reaches the focused window's daemon only
				keysym := []uint32{'c', 'v', 'x'}[rng.IntN(3)]
				state := states[rng.IntN(len(states))]
				trace = append(trace, fmt.Sprintf("key %c state %#x", rune(keysym), state))
				if focused < 0 {
					continue
				}
				d := ds[focused]
				switch {
				case d.cfg.Copy.Match(state, keycodes[keysym], keycodeOf):
					d.req.Start(now)
					m.pending[d.name] = now
				case d.cfg.Paste.Match(state, keycodes[keysym], keycodeOf):
					pastes++
					res, err := d.store.Paste(d.name, now, clipboard.Limits{MaxSize: d.cfg.MaxSize}, decider)
					want := m.buf
					switch {
					case m.stale(now):
						if !errors.Is(err, clipboard.ErrStale) {
							fail("paste to %s at %d: %v, want stale", d.name, now, err)
						}
						continue
					case want == nil:
						if !errors.Is(err, clipboard.ErrEmpty) {
							fail("paste to %s of an empty clipboard: %v", d.name, err)
						}
						continue
					case want.source == d.name:
						if _, ok := errors.AsType[*clipboard.SameQubeError](err); !ok {
							fail("paste back into %s: %v", d.name, err)
						}
						continue
					case !policyAllows(want.source, d.name):
						denied++
						if _, ok := errors.AsType[*clipboard.DeniedError](err); !ok {
							fail("paste %s → %s against the policy: %v, %q", want.source, d.name, err, res.Data)
						}
						continue
					}
					if err != nil {
						fail("paste %s → %s: %v", want.source, d.name, err)
					}
					// The data reaches d's qube: it had focus when its own
					// paste hotkey was pressed (the key reached d only).
					want.delivered++
					if want.delivered != 1 || res.Source != want.source || !bytes.Equal(res.Data, want.data) {
						fail("paste to %s delivered %q from %s (copy delivered %d times), want %q from %s",
							d.name, res.Data, res.Source, want.delivered, want.data, want.source)
					}
					m.buf, m.lastT, m.set = nil, now, true
				}
			default: // a qube's agent sends clipboard data, requested or not
				d := ds[rng.IntN(3)]
				data := agentData(rng, d.name, now)
				trace = append(trace, fmt.Sprintf("%s sends %d bytes", d.name, len(data)))
				tm, requested := d.req.Take()
				if mt, ok := m.pending[d.name]; ok != requested || ok && mt != tm {
					fail("%s's request is %v at %d, want %v at %d", d.name, requested, tm, ok, mt)
				}
				delete(m.pending, d.name)
				if !requested {
					continue // read and discarded
				}
				copies++
				_, err := d.store.Copy(d.name, tm, data, clipboard.Limits{MaxSize: d.cfg.MaxSize})
				switch {
				case m.stale(tm):
					if !errors.Is(err, clipboard.ErrStale) {
						fail("copy from %s at %d: %v, want stale", d.name, tm, err)
					}
					continue
				case err != nil:
					fail("copy from %s: %v", d.name, err)
				case len(data) == 0 || len(data) > d.cfg.MaxSize:
					m.buf = nil
				default:
					m.buf = &copyRecord{source: d.name, data: data}
					records = append(records, m.buf)
				}
				m.lastT, m.set = tm, true
			}
			// Every daemon sees the same global clipboard: the model's.
			st, err := ds[rng.IntN(3)].store.Status()
			if err != nil {
				fail("status: %v", err)
			}
			if m.buf == nil && st.Source != "" || m.buf != nil && (st.Source != m.buf.source || st.Size != int64(len(m.buf.data))) {
				fail("global clipboard holds %d bytes from %q, want %+v", st.Size, st.Source, m.buf)
			}
		}
		for _, r := range records {
			if r.delivered > 1 {
				fail("a copy from %s was pasted %d times", r.source, r.delivered)
			}
		}
	}
	t.Logf("%d copies, %d pastes (%d denied by policy) in %d random sequences", copies, pastes, denied, runs)
	if copies == 0 || pastes == 0 || denied == 0 {
		t.Fatal("the random sequences never exercised copy, paste and denial")
	}
}

// agentData is what a hostile agent answers: tagged text of any size,
// empty, just above its limit, or the 256001-byte "too big" marker.
func agentData(rng *rand.Rand, qube string, now uint32) []byte {
	tag := fmt.Sprintf("%s@%d:", qube, now)
	switch rng.IntN(8) {
	case 0:
		return nil
	case 1:
		return bytes.Repeat([]byte{'z'}, guiproto.ClipboardTooBig)
	case 2:
		return append([]byte(tag), bytes.Repeat([]byte{'o'}, guiproto.MinClipboardBuffer)...)
	}
	return append([]byte(tag), bytes.Repeat([]byte{'d'}, rng.IntN(200))...)
}

// TestClipboardConcurrentDaemons runs three qubes' daemons at once, each
// with its own Store on the shared directory, copying and pasting as fast
// as they can: the shared lock must still let each copy be pasted at most
// once, never back into its source, never against the policy.
func TestClipboardConcurrentDaemons(t *testing.T) {
	dir := t.TempDir()
	pdir := policyDir(t, dir)
	decider := policy.ClipboardPaste{Dir: pdir, Qubes: func(string) (policy.Qube, error) { return policy.Qube{Type: "AppVM"}, nil }}
	var (
		clock     atomic.Uint32 // X time, shared as the X server's
		mu        sync.Mutex
		delivered = map[string]string{} // copied data → the qube it reached
		wg        sync.WaitGroup
	)
	clock.Store(1000)
	errs := make(chan error, 3)
	for _, name := range []string{"work", "personal", "vault"} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			s, err := clipboard.Open(filepath.Join(dir, "clip"))
			if err != nil {
				errs <- err
				return
			}
			for i := range 100 {
				data := fmt.Appendf(nil, "%s#%d", name, i)
				if _, err := s.Copy(name, clock.Add(1), data, clipboard.Limits{}); err != nil && !errors.Is(err, clipboard.ErrStale) {
					errs <- err
					return
				}
				res, err := s.Paste(name, clock.Add(1), clipboard.Limits{}, decider)
				if err != nil {
					_, same := errors.AsType[*clipboard.SameQubeError](err)
					_, denied := errors.AsType[*clipboard.DeniedError](err)
					if !same && !denied && !errors.Is(err, clipboard.ErrStale) && !errors.Is(err, clipboard.ErrEmpty) {
						errs <- err
						return
					}
					continue // nothing delivered
				}
				source, _, _ := strings.Cut(string(res.Data), "#")
				mu.Lock()
				prev, twice := delivered[string(res.Data)]
				delivered[string(res.Data)] = name
				mu.Unlock()
				switch {
				case twice:
					errs <- fmt.Errorf("%q pasted into %s and %s", res.Data, prev, name)
				case source != res.Source || source == name:
					errs <- fmt.Errorf("%q from %s (says the store) pasted into %s", res.Data, res.Source, name)
				case !policyAllows(source, name):
					errs <- fmt.Errorf("%q pasted into %s against the policy", res.Data, name)
				default:
					continue
				}
				return
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	t.Logf("%d copies delivered across three concurrent daemons", len(delivered))
	if len(delivered) == 0 {
		t.Fatal("no paste ever succeeded: the test exercised nothing")
	}
}
