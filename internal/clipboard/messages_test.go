package clipboard

import (
	"errors"
	"testing"
	"time"

	"github.com/qube-desktop/qube-desktop/internal/notify"
)

func TestTexts(t *testing.T) {
	for got, want := range map[string]string{
		CopiedText("work", 123):             "Copied 123 bytes from work",
		CopiedText("work", 1):               "Copied 1 byte from work",
		PastedText("personal"):              "Pasted to personal; global clipboard wiped",
		DeniedText("work", "personal"):      "Pasting from work to personal is denied by policies",
		OversizedText("work", 70000, 64000): "Copy from work refused: 70000 bytes exceed its clipboard limit of 64000 bytes; global clipboard wiped",
		TooBigText("work"):                  "Copy from work refused: its clipboard is larger than 256000 bytes; global clipboard wiped",
		EmptyCopyText("work"):               "Clipboard of work is empty; global clipboard wiped",
		EmptyPasteText():                    "Global clipboard is empty; nothing to paste",
		SameQubeText("work"):                "Pasting back into work, where the global clipboard came from, is refused",
		ErrorText(errors.New("disk full")):  "Global clipboard error: disk full",
	} {
		if got != want {
			t.Errorf("got %q, want %q", got, want)
		}
	}
}

func TestStatusText(t *testing.T) {
	now := time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)
	for _, c := range []struct {
		st   Status
		want string
	}{
		{Status{}, "Global clipboard is empty"},
		{Status{Source: "work", Size: 123, Time: now.Add(-10 * time.Second)}, "123 bytes from work, just now"},
		{Status{Source: "work", Size: 1, Time: now.Add(-5 * time.Minute)}, "1 byte from work, 5 min ago"},
		{Status{Source: "vault", Size: 9, Time: now.Add(-3 * time.Hour)}, "9 bytes from vault, 3 h ago"},
		{Status{Source: "vault", Size: 9, Time: now.Add(-50 * time.Hour)}, "9 bytes from vault, 2 days ago"},
	} {
		if got := StatusText(c.st, now); got != c.want {
			t.Errorf("got %q, want %q", got, c.want)
		}
	}
}

func TestNotifications(t *testing.T) {
	type out struct {
		n  notify.Notification
		ok bool
	}
	o := func(n notify.Notification, ok bool) out { return out{n, ok} }
	for _, c := range []struct {
		got        out
		body, icon string
	}{
		{o(CopyNotification(CopyResult{Outcome: Stored, Source: "work", Size: 123}, nil)), "Copied 123 bytes from work", "dialog-information"},
		{o(CopyNotification(CopyResult{Outcome: Oversized, Source: "work", Size: 300, Limit: 256}, nil)), OversizedText("work", 300, 256), "dialog-error"},
		{o(CopyNotification(CopyResult{Outcome: Oversized, Source: "work", Size: 256001, TooBig: true}, nil)), TooBigText("work"), "dialog-error"},
		{o(CopyNotification(CopyResult{Outcome: Emptied, Source: "work"}, nil)), EmptyCopyText("work"), "dialog-warning"},
		{o(CopyNotification(CopyResult{}, errors.New("x"))), "Global clipboard error: x", "dialog-error"},
		{o(PasteNotification(PasteResult{Target: "personal"}, nil)), "Pasted to personal; global clipboard wiped", "dialog-information"},
		{o(PasteNotification(PasteResult{}, &DeniedError{Source: "work", Target: "personal"})), "Pasting from work to personal is denied by policies", "dialog-error"},
		{o(PasteNotification(PasteResult{}, &SameQubeError{Qube: "work"})), SameQubeText("work"), "dialog-warning"},
		{o(PasteNotification(PasteResult{}, ErrEmpty)), EmptyPasteText(), "dialog-information"},
	} {
		if !c.got.ok || c.got.n.Summary != Summary || c.got.n.Body != c.body || c.got.n.Icon != c.icon {
			t.Errorf("got %+v, want body %q icon %q", c.got, c.body, c.icon)
		}
	}
	if _, ok := CopyNotification(CopyResult{}, ErrStale); ok {
		t.Error("stale copy notifies")
	}
	if _, ok := PasteNotification(PasteResult{}, ErrStale); ok {
		t.Error("stale paste notifies")
	}
}
