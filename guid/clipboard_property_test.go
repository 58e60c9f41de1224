package guid

import (
	"flag"
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/qube-desktop/qube-desktop/compositor/wayland"
	"github.com/qube-desktop/qube-desktop/internal/guiproto"
)

var clipSeed = flag.Uint64("clipseed", 0, "seed of TestClipboardIsolationSessions; 0 for a random one")

// The policy of the property test (as in internal/hostile): vault's
// clipboard never leaves it, personal's never reaches work, work →
// personal asks (allowed for the hotkey).
const isolationPolicy = `qubes.ClipboardPaste * vault @anyvm deny
qubes.ClipboardPaste * personal work deny
qubes.ClipboardPaste * work personal ask
qubes.ClipboardPaste * @anyvm @anyvm allow
`

// TestClipboardIsolationSessions is the clipboard isolation property of
// issue 8, item 4, over the real sessions of three qubes and their seats'
// wl_keyboard handlers (sway's keymap), sharing one global clipboard:
// random focus changes, Ctrl+Shift+C and Ctrl+Shift+V in the focused
// window, and clipboard data from every agent, requested or not. A qube
// receives clipboard data only from a paste hotkey pressed while its own
// window had focus, only data another qube copied on request, at most
// once per copy, never data the policy denies; the hotkeys' keys never
// reach a qube.
func TestClipboardIsolationSessions(t *testing.T) {
	seed := *clipSeed
	if seed == 0 {
		seed = uint64(time.Now().UnixNano())
	}
	t.Logf("seed %d (-clipseed %d repeats this run)", seed, seed)
	rng := rand.New(rand.NewPCG(seed, 0))

	q := newClipQubes(t)
	q.policy(isolationPolicy)
	names := []string{"work", "personal", "vault"}
	seats := make([]*seatHarness, len(names))
	for i, n := range names {
		seats[i] = newSeat(t, q, n)
		seats[i].takeSent()
	}
	allows := func(source, target string) bool {
		return source != target && source != "vault" && !(source == "personal" && target == "work")
	}
	var (
		clock     uint32
		focused   = -1
		requested = make([]bool, len(names))
		copied    = map[string]string{} // data → the qube that sent it on request
		delivered = map[string]bool{}
		pastes    int
	)
	// only checks that qube i's session sent nothing but what is allowed.
	only := func(step int, i int, what string, allowed ...any) []sent {
		t.Helper()
		got := seats[i].takeSent()
		for _, s := range got {
			switch m := s.m.(type) {
			case guiproto.ClipboardData:
				t.Fatalf("step %d (%s): %s received clipboard data %q outside its paste", step, what, names[i], m.Data)
			case guiproto.Keypress:
				if k := m.Keycode - 8; k == evC || k == evV {
					t.Fatalf("step %d (%s): %s received the hotkey's key %d", step, what, names[i], k)
				}
			}
		}
		return got
	}
	press := func(sh *seatHarness, key uint32) {
		clock += 10
		sh.time = clock - 10
		sh.mods(modCtrlShift)
		sh.key(key, true)
		sh.key(key, false)
		sh.mods(0)
		clock = sh.time
	}
	for step := range 2000 {
		switch op := rng.IntN(10); {
		case op < 2: // the user focuses another qube's window
			if focused >= 0 {
				seats[focused].s.kbd.OnLeave(wayland.WlKeyboardLeaveEvent{Surface: seats[focused].surface})
				only(step, focused, "focus out")
			}
			focused = rng.IntN(len(seats))
			seats[focused].enter()
			only(step, focused, "focus in")
		case op < 4 && focused >= 0: // Ctrl+Shift+C
			press(seats[focused], evC)
			got := seats[focused].takeSent()
			if len(got) != 1 || got[0].m != (guiproto.ClipboardReq{}) || got[0].window != win {
				t.Fatalf("step %d: Ctrl+Shift+C in %s sent %+v, want only CLIPBOARD_REQ", step, names[focused], got)
			}
			requested[focused] = true
		case op < 7: // an agent sends its clipboard, asked for or not
			i := rng.IntN(len(seats))
			data := fmt.Sprintf("%s-%d", names[i], step)
			seats[i].send(uint32(0), guiproto.ClipboardData{Data: []byte(data)})
			if requested[i] {
				copied[data] = names[i]
			} else if _, d := q.global(); d == data {
				t.Fatalf("step %d: %s's unrequested data reached the global clipboard", step, names[i])
			}
			requested[i] = false // every arrival ends the request
			only(step, i, "clipboard data")
		case focused >= 0: // Ctrl+Shift+V
			press(seats[focused], evV)
			target := names[focused]
			for _, s := range seats[focused].takeSent() {
				m, ok := s.m.(guiproto.ClipboardData)
				if !ok {
					t.Fatalf("step %d: Ctrl+Shift+V in %s sent %+v", step, target, s.m)
				}
				d := string(m.Data)
				src, ok := copied[d]
				switch {
				case s.window != win:
					t.Fatalf("step %d: paste into %s went to window %#x", step, target, s.window)
				case !ok:
					t.Fatalf("step %d: %s received %q, which no qube copied", step, target, d)
				case delivered[d]:
					t.Fatalf("step %d: %q (copied from %s) pasted a second time, into %s", step, d, src, target)
				case !allows(src, target):
					t.Fatalf("step %d: %q pasted from %s into %s against the policy", step, d, src, target)
				}
				delivered[d] = true
				pastes++
			}
		}
		for i := range seats {
			if i != focused {
				only(step, i, "another qube's step")
			}
		}
	}
	if pastes == 0 {
		t.Fatal("no paste succeeded: the sequences did not exercise the clipboard")
	}
	t.Logf("%d requested copies, %d pasted", len(copied), pastes)
}
