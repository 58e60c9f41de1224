package clipboard

import (
	"errors"
	"fmt"
	"time"

	"github.com/qube-desktop/qube-desktop/internal/guiproto"
	"github.com/qube-desktop/qube-desktop/internal/notify"
)

// The words the guid's notifications and the tray use, in one place so both
// say the same thing.

// Summary is the title of every clipboard notification (qui-clipboard's).
const Summary = "Global Clipboard"

// Theme icons of the notifications.
const (
	iconInfo    = "dialog-information"
	iconWarning = "dialog-warning"
	iconError   = "dialog-error"
)

// Bytes says n bytes in words: "1 byte", "123 bytes".
func Bytes(n int64) string {
	if n == 1 {
		return "1 byte"
	}
	return fmt.Sprintf("%d bytes", n)
}

// CopiedText: "Copied 123 bytes from work".
func CopiedText(source string, size int) string {
	return fmt.Sprintf("Copied %s from %s", Bytes(int64(size)), source)
}

// PastedText: "Pasted to personal; global clipboard wiped".
func PastedText(target string) string {
	return fmt.Sprintf("Pasted to %s; global clipboard wiped", target)
}

// DeniedText is the daemon's own words for a policy denial.
func DeniedText(source, target string) string {
	return fmt.Sprintf("Pasting from %s to %s is denied by policies", source, target)
}

// OversizedText: a copy above the qube's limit.
func OversizedText(source string, size, limit int) string {
	return fmt.Sprintf("Copy from %s refused: %s exceed its clipboard limit of %s; global clipboard wiped",
		source, Bytes(int64(size)), Bytes(int64(limit)))
}

// TooBigText: the agent's "too big" marker.
func TooBigText(source string) string {
	return fmt.Sprintf("Copy from %s refused: its clipboard is larger than %s; global clipboard wiped",
		source, Bytes(guiproto.MaxClipboardBuffer))
}

// EmptyCopyText: the source qube's clipboard was empty.
func EmptyCopyText(source string) string {
	return fmt.Sprintf("Clipboard of %s is empty; global clipboard wiped", source)
}

// EmptyPasteText: nothing to paste.
func EmptyPasteText() string { return "Global clipboard is empty; nothing to paste" }

// SameQubeText: a paste back into the source qube.
func SameQubeText(qube string) string {
	return fmt.Sprintf("Pasting back into %s, where the global clipboard came from, is refused", qube)
}

// ErrorText: an operation failed (I/O, a corrupt file).
func ErrorText(err error) string { return "Global clipboard error: " + err.Error() }

// StatusText is the tray's line for the current buffer:
// "123 bytes from work, 5 min ago" or "Global clipboard is empty".
func StatusText(st Status, now time.Time) string {
	if st.Source == "" {
		return "Global clipboard is empty"
	}
	return fmt.Sprintf("%s from %s, %s", Bytes(st.Size), st.Source, age(now.Sub(st.Time)))
}

func age(d time.Duration) string {
	switch {
	case d < time.Minute:
		return "just now"
	case d < time.Hour:
		return fmt.Sprintf("%d min ago", int(d/time.Minute))
	case d < 24*time.Hour:
		return fmt.Sprintf("%d h ago", int(d/time.Hour))
	}
	return fmt.Sprintf("%d days ago", int(d/(24*time.Hour)))
}

// CopyNotification is what to show after Copy or CopyOversized. A stale
// copy shows nothing (ok false): the daemon only logs it.
func CopyNotification(res CopyResult, err error) (n notify.Notification, ok bool) {
	switch {
	case errors.Is(err, ErrStale):
		return n, false
	case err != nil:
		return notify.Notification{Summary: Summary, Body: ErrorText(err), Icon: iconError, Urgency: notify.Critical}, true
	case res.Outcome == Oversized && res.TooBig:
		return notify.Notification{Summary: Summary, Body: TooBigText(res.Source), Icon: iconError}, true
	case res.Outcome == Oversized:
		return notify.Notification{Summary: Summary, Body: OversizedText(res.Source, res.Size, res.Limit), Icon: iconError}, true
	case res.Outcome == Emptied:
		return notify.Notification{Summary: Summary, Body: EmptyCopyText(res.Source), Icon: iconWarning}, true
	}
	return notify.Notification{Summary: Summary, Body: CopiedText(res.Source, res.Size), Icon: iconInfo}, true
}

// PasteNotification is what to show after Paste. A stale paste shows
// nothing (ok false).
func PasteNotification(res PasteResult, err error) (n notify.Notification, ok bool) {
	var denied *DeniedError
	var same *SameQubeError
	switch {
	case err == nil:
		return notify.Notification{Summary: Summary, Body: PastedText(res.Target), Icon: iconInfo}, true
	case errors.Is(err, ErrStale):
		return n, false
	case errors.Is(err, ErrEmpty):
		return notify.Notification{Summary: Summary, Body: EmptyPasteText(), Icon: iconInfo, Urgency: notify.Low}, true
	case errors.As(err, &denied):
		return notify.Notification{Summary: Summary, Body: DeniedText(denied.Source, denied.Target), Icon: iconError}, true
	case errors.As(err, &same):
		return notify.Notification{Summary: Summary, Body: SameQubeText(same.Qube), Icon: iconWarning}, true
	}
	return notify.Notification{Summary: Summary, Body: ErrorText(err), Icon: iconError, Urgency: notify.Critical}, true
}
