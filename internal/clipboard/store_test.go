package clipboard

import (
	"bufio"
	"bytes"
	"errors"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/qube-desktop/qube-desktop/internal/guiproto"
	"github.com/qube-desktop/qube-desktop/internal/testenv"
)

func newStore(t *testing.T) *Store {
	t.Helper()
	s, err := Open(filepath.Join(t.TempDir(), "qubes"))
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func readFile(t *testing.T, s *Store, name string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(s.Dir(), name))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// files returns the four clipboard files.
func files(t *testing.T, s *Store) [4]string {
	return [4]string{readFile(t, s, DataFile), readFile(t, s, SourceFile), readFile(t, s, XEventFile), readFile(t, s, MetadataFile)}
}

var lim18 = Limits{ProtocolVersion: 0x10008}

type policyFunc func(source, target string) (bool, error)

func (f policyFunc) AllowPaste(source, target string) (bool, error) { return f(source, target) }

var allowAll = policyFunc(func(string, string) (bool, error) { return true, nil })

func TestCopyWritesQubesFiles(t *testing.T) {
	s := newStore(t)
	res, err := s.Copy("work", 1000, []byte("secret\x00\xff"), lim18)
	if err != nil {
		t.Fatal(err)
	}
	if res != (CopyResult{Outcome: Stored, Source: "work", Size: 8, Limit: 64000}) {
		t.Fatalf("result %+v", res)
	}
	want := "{\n\"vmname\":\"work\",\n\"xevent_timestamp\":1000,\n\"successful\":1,\n\"copy_action\":1,\n" +
		"\"paste_action\":0,\n\"malformed_request\":0,\n\"oversized_request\":0,\n\"cleared\":0,\n" +
		"\"qrexec_clipboard\":0,\n\"sent_size\":8,\n\"buffer_size\":64000,\n" +
		"\"protocol_version_xside\":65544,\n\"protocol_version_vmside\":65544\n}\n"
	if got := files(t, s); got != [4]string{"secret\x00\xff", "work", "1000\n", want} {
		t.Fatalf("files %q", got)
	}
	for _, name := range []string{DataFile, SourceFile, XEventFile, MetadataFile} {
		fi, err := os.Stat(filepath.Join(s.Dir(), name))
		if err != nil || fi.Mode().Perm() != 0o660 {
			t.Errorf("%s: mode %v, %v; want 0660 (umask 007)", name, fi.Mode().Perm(), err)
		}
	}
	// No temporary files are left behind.
	ents, _ := os.ReadDir(s.Dir())
	if len(ents) != 5 {
		t.Errorf("directory holds %d entries, want the 4 files and the lock", len(ents))
	}
}

func TestCopyOversizedClears(t *testing.T) {
	s := newStore(t)
	if _, err := s.Copy("work", 10, []byte("old"), lim18); err != nil {
		t.Fatal(err)
	}
	res, err := s.Copy("personal", 20, make([]byte, 300), Limits{MaxSize: 256, ProtocolVersion: 0x10008})
	if err != nil {
		t.Fatal(err)
	}
	if res != (CopyResult{Outcome: Oversized, Source: "personal", Size: 300, Limit: 256}) {
		t.Fatalf("result %+v", res)
	}
	want := "{\n\"vmname\":\"personal\",\n\"xevent_timestamp\":20,\n\"successful\":0,\n\"copy_action\":1,\n" +
		"\"paste_action\":0,\n\"malformed_request\":0,\n\"oversized_request\":1,\n\"cleared\":1,\n" +
		"\"qrexec_clipboard\":0,\n\"sent_size\":300,\n\"buffer_size\":256,\n" +
		"\"protocol_version_xside\":65544,\n\"protocol_version_vmside\":65544\n}\n"
	// .xevent is the legacy file of the last stored copy; clearing leaves it.
	if got := files(t, s); got != [4]string{"", "", "10\n", want} {
		t.Fatalf("files %q", got)
	}
}

func TestCopyTooBigMarker(t *testing.T) {
	s := newStore(t)
	res, err := s.CopyOversized("work", 5, guiproto.ClipboardTooBig, Limits{MaxSize: 256000, ProtocolVersion: 0x10008})
	if err != nil || !res.TooBig || res.Outcome != Oversized {
		t.Fatalf("result %+v, %v", res, err)
	}
	m, err := ParseMetadata([]byte(readFile(t, s, MetadataFile)))
	if err != nil || !m.OversizedRequest || !m.Cleared || m.SentSize != 256001 {
		t.Fatalf("metadata %+v, %v", m, err)
	}
	// Before 1.8 the same length is no marker (guiproto refuses it anyway).
	res, _ = s.CopyOversized("work", 6, guiproto.ClipboardTooBig, Limits{ProtocolVersion: 0x10007})
	if res.TooBig {
		t.Error("256001 bytes from a 1.7 agent reported as the too-big marker")
	}
	if _, err := s.CopyOversized("work", 7, 100, lim18); err == nil {
		t.Error("CopyOversized accepted a size within the limit")
	}
}

func TestCopyEmptyClears(t *testing.T) {
	s := newStore(t)
	if _, err := s.Copy("work", 10, []byte("old"), lim18); err != nil {
		t.Fatal(err)
	}
	res, err := s.Copy("work", 11, nil, lim18)
	if err != nil || res.Outcome != Emptied {
		t.Fatalf("result %+v, %v", res, err)
	}
	m, _ := ParseMetadata([]byte(readFile(t, s, MetadataFile)))
	if !m.Successful || !m.Cleared || !m.CopyAction || m.SentSize != 0 || readFile(t, s, DataFile) != "" || readFile(t, s, SourceFile) != "" {
		t.Fatalf("metadata %+v, data %q", m, readFile(t, s, DataFile))
	}
}

func TestCopyRejectsBadInput(t *testing.T) {
	s := newStore(t)
	for name, f := range map[string]func() error{
		"bad qube name": func() error { _, err := s.Copy("../etc", 1, []byte("x"), lim18); return err },
		"long name":     func() error { _, err := s.Copy(strings.Repeat("a", 32), 1, []byte("x"), lim18); return err },
		"limit 255":     func() error { _, err := s.Copy("work", 1, []byte("x"), Limits{MaxSize: 255}); return err },
		"limit 256001":  func() error { _, err := s.Copy("work", 1, []byte("x"), Limits{MaxSize: 256001}); return err },
	} {
		if f() == nil {
			t.Errorf("%s: accepted", name)
		}
	}
	if _, err := os.Stat(filepath.Join(s.Dir(), DataFile)); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("a rejected copy wrote the data file: %v", err)
	}
}

// Stale is decided modulo 2^32: a stored time equal to or up to 2^31-1
// after the event time (wrapping) drops the operation.
func TestStaleModulo32(t *testing.T) {
	for _, c := range []struct {
		stored, event uint32
		stale         bool
	}{
		{100, 100, true},
		{200, 100, true},
		{100, 200, false},
		{0xfffffff0, 0x10, false}, // X time wrapped since the stored op
		{0x10, 0xfffffff0, true},  // the stored op is after the wrap
		{0, 0x7fffffff, false},
		{0, 0x80000001, true},
		{0x7fffffff, 0, true},
		{0x80000000, 0, false}, // exactly 2^31 apart counts as older
		{0x80000001, 0, false},
	} {
		s, p := newStore(t), newStore(t)
		for _, st := range []*Store{s, p} {
			if _, err := st.Copy("work", c.stored, []byte("a"), lim18); err != nil {
				t.Fatal(err)
			}
		}
		_, cerr := s.Copy("personal", c.event, []byte("b"), lim18)
		_, perr := p.Paste("vault", c.event, lim18, allowAll)
		if errors.Is(cerr, ErrStale) != c.stale || errors.Is(perr, ErrStale) != c.stale {
			t.Errorf("stored %#x event %#x: copy %v, paste %v; want stale=%v", c.stored, c.event, cerr, perr, c.stale)
		}
		if c.stale && readFile(t, s, DataFile) != "a" {
			t.Errorf("stored %#x event %#x: stale copy changed the data", c.stored, c.event)
		}
	}
}

// The daemon reads a missing metadata file as time 0, which would drop
// every copy in the upper half of X time; we treat it as no earlier op.
func TestNoMetadataIsNotStale(t *testing.T) {
	s := newStore(t)
	if _, err := s.Copy("work", 0x90000000, []byte("a"), lim18); err != nil {
		t.Fatal(err)
	}
}

func TestPasteSendsAndWipes(t *testing.T) {
	s := newStore(t)
	if _, err := s.Copy("work", 100, []byte("hello"), lim18); err != nil {
		t.Fatal(err)
	}
	var asked [2]string
	res, err := s.Paste("personal", 200, Limits{MaxSize: 1000, ProtocolVersion: 0x10007},
		policyFunc(func(src, dst string) (bool, error) { asked = [2]string{src, dst}; return true, nil }))
	if err != nil {
		t.Fatal(err)
	}
	if asked != [2]string{"work", "personal"} || string(res.Data) != "hello" || res.Source != "work" || res.Target != "personal" {
		t.Fatalf("asked %q, result %+v", asked, res)
	}
	want := "{\n\"vmname\":\"personal\",\n\"xevent_timestamp\":200,\n\"successful\":1,\n\"copy_action\":0,\n" +
		"\"paste_action\":1,\n\"malformed_request\":0,\n\"oversized_request\":0,\n\"cleared\":1,\n" +
		"\"qrexec_clipboard\":0,\n\"sent_size\":5,\n\"buffer_size\":1000,\n" +
		"\"protocol_version_xside\":65544,\n\"protocol_version_vmside\":65543\n}\n"
	if got := files(t, s); got != [4]string{"", "", "100\n", want} {
		t.Fatalf("files %q", got)
	}
	// One copy, one paste.
	if _, err := s.Paste("vault", 300, lim18, allowAll); !errors.Is(err, ErrEmpty) {
		t.Fatalf("second paste: %v, want ErrEmpty", err)
	}
	// A copy whose hotkey was pressed before that paste is stale.
	if _, err := s.Copy("work", 150, []byte("late"), lim18); !errors.Is(err, ErrStale) {
		t.Fatalf("copy pressed before the paste: %v, want ErrStale", err)
	}
}

func TestPasteDeniedKeepsBuffer(t *testing.T) {
	s := newStore(t)
	if _, err := s.Copy("work", 100, []byte("hello"), lim18); err != nil {
		t.Fatal(err)
	}
	before := files(t, s)
	_, err := s.Paste("untrusted", 200, lim18, policyFunc(func(string, string) (bool, error) { return false, nil }))
	var d *DeniedError
	if !errors.As(err, &d) || d.Source != "work" || d.Target != "untrusted" || err.Error() != "Pasting from work to untrusted is denied by policies" {
		t.Fatalf("err %v", err)
	}
	// A policy that cannot be evaluated denies too.
	_, err = s.Paste("untrusted", 201, lim18, policyFunc(func(string, string) (bool, error) { return true, errors.New("no policy") }))
	if !errors.As(err, &d) || d.Err == nil {
		t.Fatalf("err %v", err)
	}
	if files(t, s) != before {
		t.Fatal("a denied paste changed the clipboard")
	}
}

func TestPasteIntoSourceRefused(t *testing.T) {
	s := newStore(t)
	if _, err := s.Copy("work", 100, []byte("hello"), lim18); err != nil {
		t.Fatal(err)
	}
	before := files(t, s)
	_, err := s.Paste("work", 200, lim18, policyFunc(func(string, string) (bool, error) {
		t.Error("policy asked for a paste into the source")
		return true, nil
	}))
	var q *SameQubeError
	if !errors.As(err, &q) || q.Qube != "work" {
		t.Fatalf("err %v", err)
	}
	if files(t, s) != before {
		t.Fatal("a refused paste changed the clipboard")
	}
}

func TestPasteEmpty(t *testing.T) {
	s := newStore(t)
	if _, err := s.Paste("work", 1, lim18, allowAll); !errors.Is(err, ErrEmpty) {
		t.Fatalf("paste from a fresh directory: %v", err)
	}
	// A source whose data file was emptied behind our back: wiped, nothing sent.
	if _, err := s.Copy("work", 2, []byte("x"), lim18); err != nil {
		t.Fatal(err)
	}
	if err := os.Truncate(filepath.Join(s.Dir(), DataFile), 0); err != nil {
		t.Fatal(err)
	}
	if res, err := s.Paste("personal", 3, lim18, allowAll); !errors.Is(err, ErrEmpty) || res.Data != nil {
		t.Fatalf("paste of an empty data file: %+v, %v", res, err)
	}
	if readFile(t, s, SourceFile) != "" {
		t.Fatal("source kept after wiping")
	}
}

func TestPasteRejectsCorruptSource(t *testing.T) {
	s := newStore(t)
	if err := os.WriteFile(filepath.Join(s.Dir(), SourceFile), []byte("a b\n"), 0o660); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Paste("work", 1, lim18, allowAll); err == nil || errors.Is(err, ErrEmpty) {
		t.Fatalf("paste with source %q: %v", "a b", err)
	}
	// qui-clipboard's dom0 copy writes the name without a newline; a newline is tolerated.
	if err := os.WriteFile(filepath.Join(s.Dir(), SourceFile), []byte("dom0\n"), 0o660); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(s.Dir(), DataFile), []byte("from dom0"), 0o660); err != nil {
		t.Fatal(err)
	}
	if res, err := s.Paste("work", 2, lim18, allowAll); err != nil || string(res.Data) != "from dom0" || res.Source != "dom0" {
		t.Fatalf("paste of a dom0 copy: %+v, %v", res, err)
	}
}

// qui-clipboard holds an inotify watch on .bin.source: it must keep its inode.
func TestSourceKeepsInode(t *testing.T) {
	s := newStore(t)
	ino := func() uint64 {
		fi, err := os.Stat(filepath.Join(s.Dir(), SourceFile))
		if err != nil {
			t.Fatal(err)
		}
		return fi.Sys().(*syscall.Stat_t).Ino
	}
	if _, err := s.Copy("work", 1, []byte("x"), lim18); err != nil {
		t.Fatal(err)
	}
	first := ino()
	if _, err := s.Paste("personal", 2, lim18, allowAll); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Copy("vault", 3, []byte("y"), lim18); err != nil {
		t.Fatal(err)
	}
	if ino() != first {
		t.Fatal(".bin.source was replaced, not rewritten")
	}
}

func TestStatus(t *testing.T) {
	s := newStore(t)
	st, err := s.Status()
	if err != nil || st != (Status{}) {
		t.Fatalf("fresh: %+v, %v", st, err)
	}
	before := time.Now().Add(-time.Second)
	if _, err := s.Copy("work", 1, []byte("12345"), lim18); err != nil {
		t.Fatal(err)
	}
	st, err = s.Status()
	if err != nil || st.Source != "work" || st.Size != 5 || st.Time.Before(before) || st.Time.After(time.Now().Add(time.Second)) {
		t.Fatalf("after copy: %+v, %v", st, err)
	}
	if _, err := s.Paste("personal", 2, lim18, allowAll); err != nil {
		t.Fatal(err)
	}
	if st, err = s.Status(); err != nil || st != (Status{}) {
		t.Fatalf("after paste: %+v, %v", st, err)
	}
}

// Another program holding appviewer.lock (here util-linux flock(1), as
// qui-clipboard or a C guid would) blocks our operations until it lets go.
func TestLockExcludesOtherPrograms(t *testing.T) {
	testenv.NeedCommands(t, "flock")
	s := newStore(t)
	holder := exec.Command("flock", filepath.Join(s.Dir(), LockFile), "sh", "-c", "echo locked; read x; exit 0")
	stdin, _ := holder.StdinPipe()
	stdout, _ := holder.StdoutPipe()
	if err := holder.Start(); err != nil {
		t.Fatal(err)
	}
	defer holder.Process.Kill()
	if line, _ := bufio.NewReader(stdout).ReadString('\n'); line != "locked\n" {
		t.Fatalf("flock said %q", line)
	}
	done := make(chan error, 1)
	go func() { _, err := s.Copy("work", 1, []byte("x"), lim18); done <- err }()
	select {
	case err := <-done:
		t.Fatalf("Copy finished while another process held the lock: %v", err)
	case <-time.After(300 * time.Millisecond):
	}
	stdin.Close()
	if err := holder.Wait(); err != nil {
		t.Fatal(err)
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if readFile(t, s, DataFile) != "x" {
		t.Fatal("copy lost")
	}
}

// Separate processes (this test binary run again) increment a counter file
// with a read-sleep-write under Store's lock; any lost update means two of
// them were inside at once.
const helperEnv = "CLIPBOARD_LOCK_HELPER_DIR"

func TestLockAcrossProcesses(t *testing.T) {
	s := newStore(t)
	const procs, rounds = 4, 25
	var cmds []*exec.Cmd
	for range procs {
		c := exec.Command(os.Args[0], "-test.run=^TestLockHelperProcess$")
		c.Env = append(os.Environ(), helperEnv+"="+s.Dir())
		var out bytes.Buffer
		c.Stdout, c.Stderr = &out, &out
		if err := c.Start(); err != nil {
			t.Fatal(err)
		}
		cmds = append(cmds, c)
	}
	for _, c := range cmds {
		if err := c.Wait(); err != nil {
			t.Fatalf("helper: %v\n%s", err, c.Stdout)
		}
	}
	if got := readFile(t, s, "counter"); got != strings.Repeat("x", procs*rounds) {
		t.Fatalf("counter has %d marks, want %d: updates were lost", len(got), procs*rounds)
	}
}

// Goroutines sharing one Store exclude each other too: each operation opens
// its own lock file description.
func TestLockAcrossGoroutines(t *testing.T) {
	s := newStore(t)
	p := filepath.Join(s.Dir(), "counter")
	errs := make(chan error, 4)
	for range 4 {
		go func() {
			for range 25 {
				err := s.locked(func() error {
					b, _ := os.ReadFile(p)
					time.Sleep(100 * time.Microsecond)
					return os.WriteFile(p, append(b, 'x'), 0o600)
				})
				if err != nil {
					errs <- err
					return
				}
			}
			errs <- nil
		}()
	}
	for range 4 {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
	if got := readFile(t, s, "counter"); len(got) != 100 {
		t.Fatalf("counter has %d marks, want 100", len(got))
	}
}

func TestSourceSymlinkNotFollowed(t *testing.T) {
	s := newStore(t)
	victim := filepath.Join(t.TempDir(), "victim")
	if err := os.WriteFile(victim, []byte("keep"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(victim, filepath.Join(s.Dir(), SourceFile)); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Copy("work", 1, []byte("x"), lim18); err == nil {
		t.Error("copy wrote through a symlinked .bin.source")
	}
	if b, _ := os.ReadFile(victim); string(b) != "keep" {
		t.Fatalf("symlink target overwritten: %q", b)
	}
}

func TestLockHelperProcess(t *testing.T) {
	dir := os.Getenv(helperEnv)
	if dir == "" {
		t.Skip("only run by TestLockAcrossProcesses")
	}
	s := &Store{dir: dir}
	p := filepath.Join(dir, "counter")
	for range 25 {
		err := s.locked(func() error {
			b, err := os.ReadFile(p)
			if err != nil && !errors.Is(err, fs.ErrNotExist) {
				return err
			}
			time.Sleep(time.Millisecond)
			return os.WriteFile(p, append(b, 'x'), 0o600)
		})
		if err != nil {
			t.Fatal(err)
		}
	}
}
