// Package clipboard is the Qubes global clipboard: the files
// qubes-clipboard.bin{,.source,.xevent,.metadata} in one directory, guarded
// by the flock on appviewer.lock that every guid (and qui-clipboard) takes,
// with the copy and paste rules of the Qubes GUI daemon (spec §5.2–5.4).
// The guid calls Copy when requested clipboard data arrives and Paste on
// the paste hotkey; the tray calls Status.
package clipboard

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"syscall"
	"time"

	"github.com/qube-desktop/qube-desktop/internal/guiproto"
)

// File names inside the clipboard directory, as Qubes names them.
const (
	DataFile     = "qubes-clipboard.bin"
	SourceFile   = DataFile + ".source"
	XEventFile   = DataFile + ".xevent"
	MetadataFile = DataFile + ".metadata"
	LockFile     = "appviewer.lock"
	// SystemDir is the directory of a system-wide setup, as in Qubes.
	SystemDir = "/run/qubes"
)

// UserDir is the directory of a per-user setup: $XDG_RUNTIME_DIR/qubes.
func UserDir() (string, error) {
	rt := os.Getenv("XDG_RUNTIME_DIR")
	if rt == "" {
		return "", errors.New("XDG_RUNTIME_DIR is not set; cannot place the global clipboard (use " + SystemDir + " for a system setup)")
	}
	return filepath.Join(rt, "qubes"), nil
}

// Store is the global clipboard in one directory. It keeps no state of its
// own: every operation takes the shared lock and reads the files, so any
// number of Stores in any number of processes agree.
type Store struct{ dir string }

// Open returns the clipboard in dir, creating dir if it is missing.
func Open(dir string) (*Store, error) {
	if err := os.MkdirAll(dir, dirPerm); err != nil {
		return nil, fmt.Errorf("global clipboard directory: %w", err)
	}
	return &Store{dir: dir}, nil
}

// Dir is the directory holding the clipboard files.
func (s *Store) Dir() string { return s.dir }

// Limits are the per-qube settings that shape an operation.
type Limits struct {
	// MaxSize is the qube's max_clipboard_size; 0 means the default 64000.
	MaxSize int
	// ProtocolVersion is the version negotiated with the qube's agent,
	// recorded as protocol_version_vmside.
	ProtocolVersion uint32
}

func (l Limits) maxSize() (int, error) {
	if l.MaxSize == 0 {
		return guiproto.DefaultClipboardBuffer, nil
	}
	if l.MaxSize < guiproto.MinClipboardBuffer || l.MaxSize > guiproto.MaxClipboardBuffer {
		return 0, fmt.Errorf("clipboard limit %d is outside %d..%d", l.MaxSize, guiproto.MinClipboardBuffer, guiproto.MaxClipboardBuffer)
	}
	return l.MaxSize, nil
}

// Errors of Copy and Paste that leave the clipboard untouched.
var (
	// ErrStale: a clipboard operation at the same or a later X time
	// happened since the hotkey press, so this one is dropped.
	ErrStale = errors.New("a newer clipboard operation happened meanwhile")
	// ErrEmpty: there is nothing to paste.
	ErrEmpty = errors.New("the global clipboard is empty")
)

// DeniedError is a paste the qubes.ClipboardPaste policy refused (or could
// not be evaluated, then Err says why). The clipboard is kept.
type DeniedError struct {
	Source, Target string
	Err            error
}

func (e *DeniedError) Error() string {
	if e.Err != nil {
		return fmt.Sprintf("pasting from %s to %s: policy could not be evaluated: %v", e.Source, e.Target, e.Err)
	}
	return DeniedText(e.Source, e.Target)
}

func (e *DeniedError) Unwrap() error { return e.Err }

// SameQubeError is a paste into the qube the clipboard came from. The
// clipboard is kept.
type SameQubeError struct{ Qube string }

func (e *SameQubeError) Error() string { return SameQubeText(e.Qube) }

// CopyOutcome says what a copy did to the global clipboard.
type CopyOutcome int

const (
	// Stored: the data is the new global clipboard.
	Stored CopyOutcome = iota
	// Emptied: the qube's clipboard was empty; the global one is cleared.
	Emptied
	// Oversized: the data exceeded the qube's limit; the global clipboard is
	// cleared and the metadata says oversized_request.
	Oversized
)

// CopyResult describes a copy that reached the files.
type CopyResult struct {
	Outcome CopyOutcome
	Source  string
	Size    int  // bytes the qube sent (or announced, if oversized)
	Limit   int  // the qube's max_clipboard_size
	TooBig  bool // the agent sent the "too big" marker (guiproto.ClipboardTooBig bytes)
}

// Copy stores data that source sent after its copy hotkey was pressed at X
// time t. The caller has already checked that the data was requested and
// fits the protocol bound. Data above the qube's limit clears the clipboard
// (Oversized); empty data clears it (Emptied). If a clipboard operation at
// t or later happened meanwhile, nothing changes and the error is ErrStale.
func (s *Store) Copy(source string, t uint32, data []byte, lim Limits) (CopyResult, error) {
	limit, err := lim.maxSize()
	if err != nil {
		return CopyResult{}, err
	}
	if len(data) > limit {
		return s.CopyOversized(source, t, len(data), lim)
	}
	if err := CheckQubeName(source); err != nil {
		return CopyResult{}, fmt.Errorf("secure copy: %w", err)
	}
	res := CopyResult{Outcome: Stored, Source: source, Size: len(data), Limit: limit}
	meta := s.metadata(source, t, limit, lim)
	meta.CopyAction = true
	meta.SentSize = uint32(len(data))
	meta.Successful = true
	err = s.locked(func() error {
		if s.stale(t) {
			return ErrStale
		}
		if len(data) == 0 {
			res.Outcome = Emptied
			return s.clear(meta)
		}
		if err := s.writeAtomic(DataFile, data); err != nil {
			return err
		}
		if err := s.writeAtomic(XEventFile, []byte(strconv.FormatUint(uint64(t), 10)+"\n")); err != nil {
			return err
		}
		if err := s.writeAtomic(MetadataFile, meta.Marshal()); err != nil {
			return err
		}
		// .source last: qui-clipboard reacts to its close-after-write.
		return s.writeInPlace(SourceFile, []byte(source))
	})
	if err != nil {
		return CopyResult{}, wrapOp("secure copy", err)
	}
	return res, nil
}

// CopyOversized records that source sent (or announced) size bytes, more
// than its limit: the global clipboard is cleared and the metadata says
// oversized_request, unless the operation is stale (ErrStale).
func (s *Store) CopyOversized(source string, t uint32, size int, lim Limits) (CopyResult, error) {
	limit, err := lim.maxSize()
	if err != nil {
		return CopyResult{}, err
	}
	if err := CheckQubeName(source); err != nil {
		return CopyResult{}, fmt.Errorf("secure copy: %w", err)
	}
	if size <= limit {
		return CopyResult{}, fmt.Errorf("secure copy: %d bytes are within the limit of %d", size, limit)
	}
	meta := s.metadata(source, t, limit, lim)
	meta.CopyAction = true
	meta.OversizedRequest = true
	meta.SentSize = uint32(min(size, guiproto.ClipboardTooBig))
	err = s.locked(func() error {
		if s.stale(t) {
			return ErrStale
		}
		return s.clear(meta)
	})
	if err != nil {
		return CopyResult{}, wrapOp("secure copy", err)
	}
	return CopyResult{Outcome: Oversized, Source: source, Size: size, Limit: limit,
		TooBig: size == guiproto.ClipboardTooBig && lim.ProtocolVersion >= uint32(guiproto.ProtocolVersion)}, nil
}

// Decider answers whether the clipboard of source may be pasted into
// target (the qubes.ClipboardPaste policy, with ask counting as allow).
type Decider interface {
	AllowPaste(source, target string) (bool, error)
}

// PasteResult is a successful paste: Data goes to target, and the global
// clipboard is already wiped.
type PasteResult struct {
	Source, Target string
	Data           []byte
}

// Paste hands the global clipboard to target, whose paste hotkey was
// pressed at X time t, and wipes it. It refuses with ErrStale (a newer
// operation happened), ErrEmpty (nothing to paste), *SameQubeError (target
// is the source) or *DeniedError (policy); these keep the clipboard.
func (s *Store) Paste(target string, t uint32, lim Limits, d Decider) (PasteResult, error) {
	limit, err := lim.maxSize()
	if err != nil {
		return PasteResult{}, err
	}
	if err := CheckQubeName(target); err != nil {
		return PasteResult{}, fmt.Errorf("secure paste: %w", err)
	}
	var res PasteResult
	err = s.locked(func() error {
		if s.stale(t) {
			return ErrStale
		}
		source, err := s.source()
		if err != nil {
			return err
		}
		if source == target {
			return &SameQubeError{Qube: source}
		}
		ok, err := d.AllowPaste(source, target)
		if !ok || err != nil {
			return &DeniedError{Source: source, Target: target, Err: err}
		}
		// From here on the clipboard is wiped whatever happens, as the
		// daemon does: one copy, at most one paste.
		meta := s.metadata(target, t, limit, lim)
		meta.PasteAction = true
		data, rerr := s.readData()
		if rerr == nil && len(data) == 0 {
			rerr = ErrEmpty
		}
		if rerr == nil {
			meta.Successful = true
			meta.SentSize = uint32(len(data))
		}
		if err := s.clear(meta); err != nil {
			return err
		}
		res = PasteResult{Source: source, Target: target, Data: data}
		return rerr
	})
	if err != nil {
		return PasteResult{}, wrapOp("secure paste", err)
	}
	return res, nil
}

// Status is what the tray shows: the current buffer's source, size and
// when it was copied. Source is empty when the clipboard is.
type Status struct {
	Source string
	Size   int64
	Time   time.Time
}

// Status reads the current state of the global clipboard.
func (s *Store) Status() (Status, error) {
	var st Status
	err := s.locked(func() error {
		source, err := s.source()
		if errors.Is(err, ErrEmpty) {
			return nil
		}
		if err != nil {
			return err
		}
		fi, err := os.Stat(filepath.Join(s.dir, DataFile))
		if errors.Is(err, fs.ErrNotExist) || err == nil && fi.Size() == 0 {
			return nil
		}
		if err != nil {
			return err
		}
		st = Status{Source: source, Size: fi.Size(), Time: fi.ModTime()}
		return nil
	})
	if err != nil {
		return Status{}, wrapOp("global clipboard status", err)
	}
	return st, nil
}

func wrapOp(op string, err error) error {
	var d *DeniedError
	var q *SameQubeError
	if errors.Is(err, ErrStale) || errors.Is(err, ErrEmpty) || errors.As(err, &d) || errors.As(err, &q) {
		return err
	}
	return fmt.Errorf("%s: %w", op, err)
}

func (s *Store) metadata(vm string, t uint32, limit int, lim Limits) Metadata {
	return Metadata{
		VMName:          vm,
		XEventTimestamp: uint64(t),
		BufferSize:      uint32(limit),
		ProtocolXSide:   ProtocolVersion,
		ProtocolVMSide:  lim.ProtocolVersion,
	}
}

// locked runs f holding the exclusive flock on appviewer.lock. The file is
// opened for each operation, so goroutines sharing a Store exclude each
// other as separate processes do.
func (s *Store) locked(f func() error) error {
	lf, err := os.OpenFile(filepath.Join(s.dir, LockFile), os.O_RDWR|os.O_CREATE|syscall.O_NOFOLLOW, 0o666)
	if err != nil {
		return fmt.Errorf("clipboard lock: %w", err)
	}
	defer lf.Close() // closing releases the lock
	for {
		err = syscall.Flock(int(lf.Fd()), syscall.LOCK_EX)
		if err != syscall.EINTR {
			break
		}
	}
	if err != nil {
		return fmt.Errorf("clipboard lock %s: %w", lf.Name(), err)
	}
	return f()
}

// stale reports whether the stored operation time is the same as or later
// than t, modulo 2^32. A missing or unreadable metadata file means no
// earlier operation (the daemon compares against 0 there, which drops every
// operation in the upper half of X time).
func (s *Store) stale(t uint32) bool {
	b, err := readLimited(filepath.Join(s.dir, MetadataFile), maxMetadataSize)
	if err != nil {
		return false
	}
	m, err := ParseMetadata(b)
	if err != nil {
		return false
	}
	return uint32(m.XEventTimestamp)-t < staleWindow
}

// source reads .bin.source; empty or missing is ErrEmpty.
func (s *Store) source() (string, error) {
	b, err := readLimited(filepath.Join(s.dir, SourceFile), maxSourceSize)
	if errors.Is(err, fs.ErrNotExist) {
		return "", ErrEmpty
	}
	if err != nil {
		return "", err
	}
	name := string(bytes.TrimSuffix(b, []byte("\n")))
	if name == "" {
		return "", ErrEmpty
	}
	if err := CheckQubeName(name); err != nil {
		return "", fmt.Errorf("%s holds no qube name: %w", SourceFile, err)
	}
	return name, nil
}

func (s *Store) readData() ([]byte, error) {
	b, err := readLimited(filepath.Join(s.dir, DataFile), maxDataSize)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, ErrEmpty
	}
	return b, err
}

// clear empties the data and the source and records meta as cleared.
func (s *Store) clear(meta Metadata) error {
	meta.Cleared = true
	if err := s.writeAtomic(DataFile, nil); err != nil {
		return err
	}
	if err := s.writeAtomic(MetadataFile, meta.Marshal()); err != nil {
		return err
	}
	return s.writeInPlace(SourceFile, nil)
}

// writeAtomic replaces name with b through a rename, so no reader ever
// sees half of it, with the mode umask 007 gives.
func (s *Store) writeAtomic(name string, b []byte) error {
	f, err := os.CreateTemp(s.dir, "."+name+".tmp*")
	if err != nil {
		return err
	}
	tmp := f.Name()
	_, err = f.Write(b)
	if err == nil {
		err = f.Chmod(filePerm)
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, filepath.Join(s.dir, name))
	}
	if err != nil {
		os.Remove(tmp)
	}
	return err
}

// writeInPlace rewrites name keeping its inode: qui-clipboard holds an
// inotify watch on .bin.source and would lose it on a rename. Readers hold
// the lock, so they never see it half-written.
func (s *Store) writeInPlace(name string, b []byte) error {
	p := filepath.Join(s.dir, name)
	f, err := os.OpenFile(p, os.O_WRONLY|os.O_CREATE|os.O_EXCL, filePerm)
	if err == nil {
		err = f.Chmod(filePerm)
	} else if errors.Is(err, fs.ErrExist) {
		// Never write through a symlink someone planted in a shared directory.
		f, err = os.OpenFile(p, os.O_WRONLY|os.O_TRUNC|syscall.O_NOFOLLOW, 0)
	}
	if err != nil {
		if f != nil {
			f.Close()
		}
		return err
	}
	_, err = f.Write(b)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}

// readLimited reads a whole file, refusing one longer than max bytes.
func readLimited(path string, max int) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, int64(max)+1))
	if err != nil {
		return nil, err
	}
	if len(b) > max {
		return nil, fmt.Errorf("%s is longer than %d bytes", path, max)
	}
	return b, nil
}
