package hostile_test

import (
	"image/color"
	"testing"
	"time"

	"github.com/qube-desktop/qube-desktop/internal/guiproto"
	"github.com/qube-desktop/qube-desktop/internal/testenv"
)

var cyan = color.RGBA{0x00, 0xff, 0xff, 0xff}

// bystanderID is the bystander qube's one window.
const bystanderID = 0x1

// TestHostileAgent runs every attack against one qube-guid ("work", blue)
// while a second qube-guid ("personal", green) shows a window on the same
// sway. One compositor, one bystander and one daemon serve all attacks:
// the agent reconnects between attacks, as a restarted agent would.
func TestHostileAgent(t *testing.T) {
	comp := testenv.StartSway(t, 800, 600)
	// Floating windows keep the agent's size and sit in the middle of the
	// output: the attacks' pixels are where the test expects them.
	comp.SwayMsg(t, `for_window [app_id="^(work|personal)"] floating enable`)
	bin := buildGuid(t)

	b := newAgent(t, "personal")
	b.follow = true
	by := startDaemon(t, bin, comp, b, "personal", "green")
	b.accept(t)
	b.window(bystanderID, win{w: 160, h: 96, title: "notes", class: "Notes", fill: cyan})
	waitViews(t, comp, "personal", "the bystander's window", func(vs []testenv.SwayView) bool { return len(vs) == 1 })
	comp.SwayMsg(t, `[app_id="^personal"] move absolute position 600 460`)
	bystanderPixels(t, comp)

	a := newAgent(t, "work")
	victim := startDaemon(t, bin, comp, a, "work", "blue", "-allow-utf8-titles")
	var peak int64
	for _, at := range attacks {
		t.Run(at.name, func(t *testing.T) {
			a.hangup()
			if at.rule == handshakeRule {
				a.acceptRaw(t)
			} else {
				a.accept(t)
			}
			waitViews(t, comp, "work", "no window of the previous attack", func(vs []testenv.SwayView) bool { return len(vs) == 0 })
			at.run(&env{t: t, a: a, comp: comp})
			switch at.outcome {
			case disconnect:
				if err := a.waitHangup(10 * time.Second); err != nil {
					t.Fatalf("want the session ended: %v", err)
				}
				waitViews(t, comp, "work", "the qube's windows destroyed", func(vs []testenv.SwayView) bool { return len(vs) == 0 })
			default:
				if err := a.ping(); err != nil {
					t.Fatalf("want the session kept: %v", err)
				}
			}
			victim.healthy(t)
			by.healthy(t)
			rss, hwm := victim.memory(t)
			t.Logf("qube-guid[work] VmRSS %d KiB, VmHWM %d KiB", rss>>10, hwm>>10)
			if hwm > maxHWM {
				t.Fatalf("qube-guid[work] peaked at %d MiB, above the %d MiB bound", hwm>>20, maxHWM>>20)
			}
			peak = max(peak, hwm)
			b.t = t
			bystanderWorks(t, b, comp)
		})
	}
	a.hangup()
	waitViews(t, comp, "work", "no window of the last attack", func(vs []testenv.SwayView) bool { return len(vs) == 0 })
	bystanderPixels(t, comp)
	victim.healthy(t)
	by.healthy(t)
	// Both daemons end cleanly on SIGTERM, the hostile one while it waits
	// for the handshake of an agent that stays silent.
	victim.stop(t)
	by.stop(t)
	t.Logf("qube-guid[work] peak VmHWM over %d attacks: %d KiB", len(attacks), peak>>10)
}

// bystanderWorks repaints the bystander's window and waits for the ack:
// its daemon still serves it. Until then the bystander may receive only
// what sway's own layout causes (CONFIGURE) and its own acks; anything
// else (input, clipboard, CLOSE, DESTROY) would have come from the attack.
func bystanderWorks(t *testing.T, b *agent, comp *testenv.Compositor) {
	t.Helper()
	b.send(bystanderID, b.paint(160, 96, cyan), guiproto.ShmImage{Width: 160, Height: 96})
	timeout := time.After(10 * time.Second)
	for done := false; !done; {
		select {
		case r, ok := <-b.in:
			if !ok {
				t.Fatal("the bystander's daemon ended its session")
			}
			switch r.h.Type {
			case guiproto.MsgWindowDumpAck:
				done = r.h.Window == bystanderID
			case guiproto.MsgConfigure:
			default:
				t.Fatalf("the bystander received %s for %#x: %+v", r.h.Type, r.h.Window, r.m)
			}
		case <-timeout:
			t.Fatal("the bystander's dump was not acked within 10 s")
		}
	}
	vs := views(t, comp, "personal")
	if len(vs) != 1 || vs[0].Title != "[personal] notes" || vs[0].AppID != "personal:Notes" {
		t.Fatalf("the bystander's window in sway: %+v", vs)
	}
}

// bystanderPixels checks the bystander's window on screen: all its pixels
// in a green frame.
func bystanderPixels(t *testing.T, comp *testenv.Compositor) {
	t.Helper()
	img, r := waitArea(t, comp, cyan, 160*96)
	framed(t, img, r, 2, green)
}
