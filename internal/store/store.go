// Package store keeps qube-hostd's collection of qubes, labels and global
// properties in one JSON file, rewritten atomically on every change: the
// new content goes to a temporary file that is fsynced and renamed over the
// old one, then the directory is fsynced. A crash at any point leaves either
// the old or the new collection on disk, never a mix.
//
// In memory the collection is an immutable snapshot behind an atomic
// pointer: readers take the pointer without copying or locking, and a write
// builds a new collection and swaps the pointer once it is on disk, so a
// request costs the same with 1000 qubes as with 10.
package store

import (
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"sync/atomic"

	"golang.org/x/sys/unix"

	"github.com/qube-desktop/qube-desktop/internal/qube"
)

// FileName is the collection file inside the data directory.
const FileName = "qubes.json"

// formatVersion is bumped when the file layout changes incompatibly.
const formatVersion = 1

// Label is a named colour; Index is Qubes' label index (1..8 are the
// defaults, custom labels get 9 and up).
type Label struct {
	Name  string `json:"name"`
	Color string `json:"color"` // "0xRRGGBB"
	Index int    `json:"index"`
}

// DefaultLabels are the eight Qubes labels every collection starts with,
// from the project's palette.
func DefaultLabels() []Label {
	out := make([]Label, len(qube.Labels))
	for i, l := range qube.Labels {
		out[i] = Label{Name: l.Name, Color: l.Hex(), Index: l.Index}
	}
	return out
}

// Qube is one domain. Props holds only explicitly set properties (label,
// template, netvm, memory, maxmem, vcpus, autostart, default_dispvm,
// include_in_backups, ...) as their wire strings; a missing key means "use
// the default", as in qubesd. Types and defaults live with the API server.
type Qube struct {
	Name     string            `json:"name"`
	Class    string            `json:"class"`
	UUID     string            `json:"uuid"`
	QID      int               `json:"qid"`
	Props    map[string]string `json:"props,omitempty"`
	Features map[string]string `json:"features,omitempty"`
	Tags     []string          `json:"tags,omitempty"`
	Notes    string            `json:"notes,omitempty"`
}

// Collection is everything the store persists.
type Collection struct {
	Version int               `json:"version"`
	Labels  []Label           `json:"labels"`
	Global  map[string]string `json:"global,omitempty"`
	Qubes   map[string]*Qube  `json:"qubes"`
}

// AdminVM is the name of the administrative qube, always present.
const AdminVM = "dom0"

func newCollection() *Collection {
	return &Collection{
		Version: formatVersion,
		Labels:  DefaultLabels(),
		Global:  map[string]string{},
		Qubes: map[string]*Qube{AdminVM: {
			Name: AdminVM, Class: "AdminVM", QID: 0,
			UUID:  "00000000-0000-0000-0000-000000000000",
			Props: map[string]string{"label": "black"},
		}},
	}
}

// Clone returns a deep copy, so callers can change it and commit it whole.
func (c *Collection) Clone() *Collection {
	n := &Collection{Version: c.Version, Labels: slices.Clone(c.Labels),
		Global: cloneMap(c.Global), Qubes: make(map[string]*Qube, len(c.Qubes))}
	for k, q := range c.Qubes {
		n.Qubes[k] = q.Clone()
	}
	return n
}

// Clone returns a deep copy of the qube.
func (q *Qube) Clone() *Qube {
	c := *q
	c.Props = cloneMap(q.Props)
	c.Features = cloneMap(q.Features)
	c.Tags = slices.Clone(q.Tags)
	return &c
}

func cloneMap(m map[string]string) map[string]string {
	n := make(map[string]string, len(m))
	for k, v := range m {
		n[k] = v
	}
	return n
}

// NextQID returns the smallest qid not in use (dom0 has 0).
func (c *Collection) NextQID() int {
	used := map[int]bool{}
	for _, q := range c.Qubes {
		used[q.QID] = true
	}
	for i := 1; ; i++ {
		if !used[i] {
			return i
		}
	}
}

// Label returns the label with that name.
func (c *Collection) Label(name string) (Label, bool) {
	for _, l := range c.Labels {
		if l.Name == name {
			return l, true
		}
	}
	return Label{}, false
}

// NewUUID returns a random RFC 4122 version 4 UUID.
func NewUUID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}

// check rejects a collection that would be unsafe to serve: it is what
// Open runs on a loaded file and Update on every proposed change.
func (c *Collection) check() error {
	if c.Version != formatVersion {
		return fmt.Errorf("format version %d, want %d", c.Version, formatVersion)
	}
	if d := c.Qubes[AdminVM]; d == nil || d.Class != "AdminVM" {
		return errors.New("no AdminVM dom0")
	}
	qids := map[int]string{}
	for name, q := range c.Qubes {
		if q == nil || q.Name != name || q.Class == "" || q.UUID == "" {
			return fmt.Errorf("qube %q is incomplete", name)
		}
		if other, dup := qids[q.QID]; dup {
			return fmt.Errorf("qubes %q and %q share qid %d", other, name, q.QID)
		}
		qids[q.QID] = name
	}
	return nil
}

// Store is an open collection file. It is safe for concurrent use.
type Store struct {
	dir  string
	lock *os.File

	// mu serialises writers; readers only load cur.
	mu  sync.Mutex
	cur atomic.Pointer[Collection]
}

// Open loads (or, on first run, creates) the collection in dir, creating
// dir with mode 0700. It takes an exclusive lock on dir so two daemons never
// write the same store; the lock is released by Close or by process exit.
func Open(dir string) (*Store, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("create data directory: %w", err)
	}
	lock, err := os.OpenFile(filepath.Join(dir, ".lock"), os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("open store lock: %w", err)
	}
	if err := unix.Flock(int(lock.Fd()), unix.LOCK_EX|unix.LOCK_NB); err != nil {
		lock.Close()
		return nil, fmt.Errorf("store %s is in use by another qube-hostd: %w", dir, err)
	}
	s := &Store{dir: dir, lock: lock}
	c, err := Load(dir)
	switch {
	case errors.Is(err, os.ErrNotExist):
		c = newCollection()
		if err := s.write(c); err != nil {
			lock.Close()
			return nil, err
		}
	case err != nil:
		lock.Close()
		return nil, err
	}
	s.cur.Store(c)
	// Leftovers of a write interrupted by a crash.
	tmps, _ := filepath.Glob(filepath.Join(dir, FileName+".tmp*"))
	for _, t := range tmps {
		os.Remove(t)
	}
	return s, nil
}

// Load reads and checks the collection file in dir without locking it.
func Load(dir string) (*Collection, error) {
	b, err := os.ReadFile(filepath.Join(dir, FileName))
	if err != nil {
		return nil, err
	}
	var c Collection
	if err := json.Unmarshal(b, &c); err != nil {
		return nil, fmt.Errorf("store %s is corrupt: %w", filepath.Join(dir, FileName), err)
	}
	if err := c.check(); err != nil {
		return nil, fmt.Errorf("store %s is invalid: %w", filepath.Join(dir, FileName), err)
	}
	return &c, nil
}

// Dir is the data directory.
func (s *Store) Dir() string { return s.dir }

// Close releases the store lock.
func (s *Store) Close() error { return s.lock.Close() }

// View returns the current collection without copying it. The snapshot is
// shared by every reader and must not be changed (Update is the way to
// change the collection, or Clone for a private copy); later Updates never
// change a snapshot already handed out.
func (s *Store) View() *Collection { return s.cur.Load() }

// Update runs fn on a copy of the collection and, if fn returns nil, writes
// the result atomically and makes it current. If fn or the write fails,
// nothing changes, in memory or on disk.
func (s *Store) Update(fn func(c *Collection) error) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	c := s.cur.Load().Clone()
	if err := fn(c); err != nil {
		return err
	}
	if err := c.check(); err != nil {
		return fmt.Errorf("refusing to store an invalid collection: %w", err)
	}
	if err := s.write(c); err != nil {
		return err
	}
	s.cur.Store(c)
	return nil
}

// write replaces the file: temp file, fsync, rename, fsync the directory.
func (s *Store) write(c *Collection) error {
	b, err := json.MarshalIndent(c, "", " ")
	if err != nil {
		return err
	}
	f, err := os.CreateTemp(s.dir, FileName+".tmp*")
	if err != nil {
		return fmt.Errorf("write store: %w", err)
	}
	tmp := f.Name()
	if _, err = f.Write(b); err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, filepath.Join(s.dir, FileName))
	}
	if err != nil {
		os.Remove(tmp)
		return fmt.Errorf("write store: %w", err)
	}
	d, err := os.Open(s.dir)
	if err != nil {
		return fmt.Errorf("sync store directory: %w", err)
	}
	defer d.Close()
	if err := d.Sync(); err != nil {
		return fmt.Errorf("sync store directory: %w", err)
	}
	return nil
}

// DefaultDir is $XDG_DATA_HOME/qube-desktop, or ~/.local/share/qube-desktop.
func DefaultDir() (string, error) {
	if d := os.Getenv("XDG_DATA_HOME"); d != "" {
		return filepath.Join(d, "qube-desktop"), nil
	}
	home, err := os.UserHomeDir()
	if err != nil {
		return "", fmt.Errorf("no XDG_DATA_HOME and no home directory: %w", err)
	}
	return filepath.Join(home, ".local", "share", "qube-desktop"), nil
}
