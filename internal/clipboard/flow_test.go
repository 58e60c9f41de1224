package clipboard

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/qube-desktop/qube-desktop/internal/notify"
	"github.com/qube-desktop/qube-desktop/internal/notify/notifytest"
	"github.com/qube-desktop/qube-desktop/internal/policy"
	"github.com/qube-desktop/qube-desktop/internal/testenv"
)

var _ Decider = policy.ClipboardPaste{}

func TestRequest(t *testing.T) {
	var r Request
	if _, ok := r.Take(); ok {
		t.Fatal("data taken without a request")
	}
	r.Start(10)
	r.Start(20)
	if tm, ok := r.Take(); !ok || tm != 20 {
		t.Fatalf("Take = %d, %v", tm, ok)
	}
	if _, ok := r.Take(); ok {
		t.Fatal("one request took two arrivals")
	}
}

// The pieces as the guid uses them: a policy directory denying vault's
// clipboard to anyone, copies and pastes across qubes, and the resulting
// notifications delivered to a notification service on a real bus.
func TestCopyPasteWithPolicyAndNotifications(t *testing.T) {
	bus := testenv.StartDBus(t)
	srv, err := notifytest.Serve(bus.Conn(t))
	if err != nil {
		t.Fatal(err)
	}
	notifier := notify.New(bus.Conn(t), "qube-guid")
	show := func(n notify.Notification, ok bool) {
		t.Helper()
		if !ok {
			return
		}
		if _, err := notifier.Send(context.Background(), n); err != nil {
			t.Fatal(err)
		}
	}
	expect := func(body string) {
		t.Helper()
		if got := <-srv.C; got.Summary != Summary || got.Body != body || got.App != "qube-guid" {
			t.Fatalf("notification %+v, want body %q", got, body)
		}
	}

	pdir := t.TempDir()
	if err := os.WriteFile(filepath.Join(pdir, "30-user.policy"), []byte("qubes.ClipboardPaste * vault @anyvm deny\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	decider := policy.ClipboardPaste{Dir: pdir, Qubes: func(string) (policy.Qube, error) { return policy.Qube{Type: "AppVM"}, nil }}
	s := newStore(t)

	var req Request
	req.Start(1000) // Ctrl+Shift+C in work
	tm, ok := req.Take()
	res, err := s.Copy("work", tm, []byte("report text"), Limits{MaxSize: 64000, ProtocolVersion: 0x10008})
	if !ok || err != nil {
		t.Fatal(ok, err)
	}
	show(CopyNotification(res, err))
	expect("Copied 11 bytes from work")

	pres, err := s.Paste("personal", 1100, lim18, decider)
	if err != nil || string(pres.Data) != "report text" {
		t.Fatalf("paste: %+v, %v", pres, err)
	}
	show(PasteNotification(pres, err))
	expect("Pasted to personal; global clipboard wiped")

	if _, err := s.Copy("vault", 1200, []byte("password"), lim18); err != nil {
		t.Fatal(err)
	}
	_, err = s.Paste("personal", 1300, lim18, decider)
	var d *DeniedError
	if !errors.As(err, &d) {
		t.Fatalf("paste from vault: %v", err)
	}
	show(PasteNotification(PasteResult{}, err))
	expect("Pasting from vault to personal is denied by policies")
	if st, _ := s.Status(); st.Source != "vault" || st.Size != 8 {
		t.Fatalf("denied paste lost the buffer: %+v", st)
	}

	res, err = s.Copy("work", 1400, make([]byte, 70000), lim18)
	show(CopyNotification(res, err))
	expect(OversizedText("work", 70000, 64000))
	if st, _ := s.Status(); st.Source != "" {
		t.Fatalf("oversized copy left %+v", st)
	}
}

func TestLimitBoundaries(t *testing.T) {
	s := newStore(t)
	l := Limits{MaxSize: 256}
	if res, err := s.Copy("work", 1, make([]byte, 256), l); err != nil || res.Outcome != Stored {
		t.Fatalf("256 bytes at limit 256: %+v, %v", res, err)
	}
	if res, err := s.Copy("work", 2, make([]byte, 257), l); err != nil || res.Outcome != Oversized {
		t.Fatalf("257 bytes at limit 256: %+v, %v", res, err)
	}
	// A data file beyond the protocol's bound (written by another tool) is
	// not sent; the clipboard is wiped.
	if err := os.WriteFile(filepath.Join(s.Dir(), DataFile), make([]byte, 256001), 0o660); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(s.Dir(), SourceFile), []byte("dom0"), 0o660); err != nil {
		t.Fatal(err)
	}
	if res, err := s.Paste("work", 3, lim18, allowAll); err == nil || res.Data != nil {
		t.Fatalf("oversized data file pasted: %d bytes, %v", len(res.Data), err)
	}
	if st, _ := s.Status(); st.Source != "" {
		t.Fatalf("oversized data file kept: %+v", st)
	}
}
