package clipboard

import (
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"unsafe"

	"github.com/qube-desktop/qube-desktop/internal/testenv"
)

// qui-clipboard reacts to IN_CLOSE_WRITE on .bin.source and then reads the
// metadata, trusting it only if it is not older than the data. Writing
// .source last makes that hold even for a reader that skips the lock.
func TestSourceClosedLastForQuiClipboard(t *testing.T) {
	s := newStore(t)
	if _, err := s.Copy("work", 1, []byte("first"), lim18); err != nil {
		t.Fatal(err)
	}
	fd, err := syscall.InotifyInit1(syscall.IN_CLOEXEC)
	if err != nil {
		testenv.Missing(t, "inotify: %v", err)
	}
	defer syscall.Close(fd)
	if _, err := syscall.InotifyAddWatch(fd, filepath.Join(s.Dir(), SourceFile), syscall.IN_CLOSE_WRITE|syscall.IN_DELETE_SELF|syscall.IN_MOVE_SELF); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { _, err := s.Copy("vault", 2, []byte("second!"), lim18); done <- err }()

	buf := make([]byte, 4096)
	n, err := syscall.Read(fd, buf)
	if err != nil || n < syscall.SizeofInotifyEvent {
		t.Fatalf("inotify read: %d, %v", n, err)
	}
	ev := (*syscall.InotifyEvent)(unsafe.Pointer(&buf[0]))
	if ev.Mask&syscall.IN_CLOSE_WRITE == 0 {
		t.Fatalf("first event on .bin.source is %#x, want IN_CLOSE_WRITE (the watch must survive)", ev.Mask)
	}
	// At the moment .source is closed, everything else is already in place.
	m, err := ParseMetadata([]byte(readFile(t, s, MetadataFile)))
	if err != nil || m.VMName != "vault" || m.SentSize != 7 || readFile(t, s, DataFile) != "second!" {
		t.Fatalf("at .source close: metadata %+v (%v), data %q", m, err, readFile(t, s, DataFile))
	}
	md, _ := os.Stat(filepath.Join(s.Dir(), MetadataFile))
	dd, _ := os.Stat(filepath.Join(s.Dir(), DataFile))
	if md.ModTime().Before(dd.ModTime()) {
		t.Error("metadata older than data: qui-clipboard would fall back to legacy guessing")
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}
