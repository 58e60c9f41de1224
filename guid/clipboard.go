package guid

import (
	"context"
	"errors"
	"fmt"
	"log"

	"github.com/qube-desktop/qube-desktop/internal/clipboard"
	"github.com/qube-desktop/qube-desktop/internal/guiproto"
	"github.com/qube-desktop/qube-desktop/internal/notify"
)

// Clipboard is a guid's secure copy and paste (spec §5.1–5.4): the qube's
// hotkeys, the global clipboard shared with every other guid, and the
// qubes.ClipboardPaste policy. Config.Clipboard nil turns both hotkeys off
// and every CLIPBOARD_DATA is unrequested.
type Clipboard struct {
	Store       *clipboard.Store
	Copy, Paste clipboard.Hotkey
	Policy      clipboard.Decider
	// Notify shows a desktop notification. It runs on the compositor
	// goroutine and must not block (see Notifications); nil only logs.
	Notify func(notify.Notification)
}

// secureClipboard is what the seat needs of its Handler: the hotkeys to
// swallow and what they do. Session implements it.
type secureClipboard interface {
	Hotkeys() (copy, paste clipboard.Hotkey)
	SecureCopy(window, time uint32)
	SecurePaste(window, time uint32)
}

var _ secureClipboard = (*Session)(nil)

var disabled = clipboard.Hotkey{Disabled: true}

// Hotkeys returns the qube's copy and paste sequences; both are disabled
// without a Clipboard.
func (s *Session) Hotkeys() (copy, paste clipboard.Hotkey) {
	if c := s.cfg.Clipboard; c != nil && !s.ended {
		return c.Copy, c.Paste
	}
	return disabled, disabled
}

func (s *Session) clipLimits() clipboard.Limits {
	return clipboard.Limits{MaxSize: s.cfg.MaxClipboard, ProtocolVersion: uint32(s.version)}
}

// SecureCopy is the copy hotkey pressed at compositor time t in window:
// the qube is asked for its clipboard, and only the answer to this request
// may reach the global clipboard.
func (s *Session) SecureCopy(window, t uint32) {
	if s.ended || s.cfg.Clipboard == nil || s.wins[window] == nil {
		return
	}
	s.clip.Start(t)
	s.send(window, guiproto.ClipboardReq{})
}

// clipboardData handles MSG_CLIPBOARD_DATA: stored only if requested,
// otherwise read and dropped; oversized data clears the global clipboard.
// Nothing here is fatal: the protocol bounds were checked by the reader.
func (s *Session) clipboardData(u guiproto.UntrustedClipboardData, h guiproto.Header) error {
	m, err := u.Validate(s.limits)
	t, requested := s.clip.Take() // every arrival ends the request
	c := s.cfg.Clipboard
	if !requested || c == nil {
		s.note("discarded unrequested clipboard data (%d bytes)", h.Len)
		return nil
	}
	var res clipboard.CopyResult
	switch {
	case errors.Is(err, guiproto.ErrClipboardOversized):
		// ReadUntrusted read exactly h.Len bytes: that is the size sent.
		res, err = c.Store.CopyOversized(s.cfg.Qube, t, int(h.Len), s.clipLimits())
	case err != nil:
		return err
	default:
		res, err = c.Store.Copy(s.cfg.Qube, t, m.Data, s.clipLimits())
	}
	n, show := clipboard.CopyNotification(res, err)
	switch {
	case errors.Is(err, clipboard.ErrStale):
		s.log.Printf("secure copy dropped: %v", err)
	case show:
		s.notify(c, n)
	}
	return nil
}

// SecurePaste is the paste hotkey pressed at compositor time t in window:
// if the policy allows, the global clipboard goes to this window's qube
// and is wiped.
func (s *Session) SecurePaste(window, t uint32) {
	c := s.cfg.Clipboard
	if s.ended || c == nil || s.wins[window] == nil {
		return
	}
	res, err := c.Store.Paste(s.cfg.Qube, t, s.clipLimits(), c.Policy)
	if err == nil {
		if s.version < guiproto.VersionClipboard4x && len(res.Data) > guiproto.MaxClipboardLegacy {
			// An agent before 1.8 would take a longer message as fatal.
			err = fmt.Errorf("secure paste: %d bytes exceed the %d an agent of protocol %s accepts; global clipboard wiped",
				len(res.Data), guiproto.MaxClipboardLegacy, s.version)
		} else {
			s.send(window, guiproto.ClipboardData{Data: res.Data})
		}
	}
	n, show := clipboard.PasteNotification(res, err)
	switch {
	case errors.Is(err, clipboard.ErrStale):
		s.log.Printf("secure paste dropped: %v", err)
	case show:
		var denied *clipboard.DeniedError
		if errors.As(err, &denied) && denied.Err != nil {
			s.log.Printf("%v", err) // why the policy could not be evaluated
		}
		s.notify(c, n)
	}
}

func (s *Session) notify(c *Clipboard, n notify.Notification) {
	s.log.Printf("clipboard: %s", n.Body)
	if c.Notify != nil {
		c.Notify(n)
	}
}

// maxPendingNotes bounds the notifications waiting for a slow service.
const maxPendingNotes = 16

// Notifications returns a Clipboard.Notify that hands notifications to n
// on a goroutine of its own until ctx ends, so a slow or absent
// notification service never stalls the compositor loop. Failures are
// logged; beyond maxPendingNotes waiting, new ones are dropped.
func Notifications(ctx context.Context, n *notify.Notifier, lg *log.Logger) func(notify.Notification) {
	q := make(chan notify.Notification, maxPendingNotes)
	go func() {
		for {
			select {
			case <-ctx.Done():
				return
			case m := <-q:
				if _, err := n.Send(ctx, m); err != nil && ctx.Err() == nil {
					lg.Printf("%v", err)
				}
			}
		}
	}()
	return func(m notify.Notification) {
		select {
		case q <- m:
		default:
			lg.Printf("notification dropped (%d waiting): %s", maxPendingNotes, m.Body)
		}
	}
}
