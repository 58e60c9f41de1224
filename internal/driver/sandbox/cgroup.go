package sandbox

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"time"
)

// cgroups pauses qubes with the cgroup v2 freezer when the daemon may
// create cgroups below its own (root, or a systemd-delegated user service):
// each qube's processes go into <daemon's cgroup>/qube-hostd-<pid>-<n>/<qube>.
// Unlike SIGSTOP, the freezer cannot be raced by a fork and nothing inside
// the qube can see or undo it.
type cgroups struct{ dir string }

// driverSeq tells apart the cgroups of several drivers in one process.
var driverSeq atomic.Int64

// findCgroups returns the daemon's cgroup v2 parent for qubes, or nil when
// there is none it may write (then pausing falls back to SIGSTOP).
func findCgroups() *cgroups {
	mnt := cgroup2Mount()
	if mnt == "" {
		return nil
	}
	b, err := os.ReadFile("/proc/self/cgroup")
	if err != nil {
		return nil
	}
	var own string
	for _, l := range strings.Split(string(b), "\n") {
		if p, ok := strings.CutPrefix(l, "0::"); ok {
			own = p
		}
	}
	if own == "" {
		return nil
	}
	removeStale(filepath.Join(mnt, own))
	dir := filepath.Join(mnt, own, fmt.Sprintf("qube-hostd-%d-%d", os.Getpid(), driverSeq.Add(1)))
	if err := os.Mkdir(dir, 0o755); err != nil && !errors.Is(err, os.ErrExist) {
		return nil
	}
	_, err = os.Stat(filepath.Join(dir, "cgroup.freeze"))
	// A probe: the directory is made again when the first qube starts, so
	// a daemon that never runs a qube leaves nothing behind.
	os.Remove(dir)
	if err != nil {
		return nil
	}
	return &cgroups{dir: dir}
}

// cgroup2Mount is where the unified hierarchy is mounted, "" if nowhere.
func cgroup2Mount() string {
	f, err := os.Open("/proc/self/mountinfo")
	if err != nil {
		return ""
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		// ... mountpoint(4th) ... - fstype ...
		pre, post, ok := strings.Cut(sc.Text(), " - ")
		if !ok || !strings.HasPrefix(post, "cgroup2 ") {
			continue
		}
		if f := strings.Fields(pre); len(f) >= 5 {
			return f[4]
		}
	}
	return ""
}

// join creates the qube's cgroup and moves pid (its init) into it.
func (c *cgroups) join(name string, pid int) (string, error) {
	dir := filepath.Join(c.dir, name)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", err
	}
	if err := os.WriteFile(filepath.Join(dir, "cgroup.procs"), []byte(strconv.Itoa(pid)), 0); err != nil {
		os.Remove(dir)
		return "", err
	}
	return dir, nil
}

// freeze sets the freezer state and waits until the kernel reports it.
func freeze(dir string, on bool) error {
	v := "0"
	if on {
		v = "1"
	}
	if err := os.WriteFile(filepath.Join(dir, "cgroup.freeze"), []byte(v), 0); err != nil {
		return fmt.Errorf("cgroup freezer: %w", err)
	}
	want := []byte("frozen " + v)
	for range 200 {
		b, err := os.ReadFile(filepath.Join(dir, "cgroup.events"))
		if err != nil {
			return err
		}
		for _, l := range bytes.Split(b, []byte("\n")) {
			if bytes.Equal(l, want) {
				return nil
			}
		}
		time.Sleep(5 * time.Millisecond)
	}
	return errors.New("cgroup freezer did not settle")
}

// remove deletes a qube's cgroup once its last process is gone.
func removeCgroup(dir string) {
	for range 100 {
		if err := os.Remove(dir); err == nil || errors.Is(err, os.ErrNotExist) {
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// removeStale deletes the (empty) cgroups a crashed daemon left behind.
func removeStale(parent string) {
	ents, _ := os.ReadDir(parent)
	for _, e := range ents {
		rest, ok := strings.CutPrefix(e.Name(), "qube-hostd-")
		pid, _, _ := strings.Cut(rest, "-")
		if !ok || !e.IsDir() || pid == "" {
			continue
		}
		if _, err := os.Stat("/proc/" + pid); err == nil {
			continue
		}
		dir := filepath.Join(parent, e.Name())
		subs, _ := os.ReadDir(dir)
		// Its qubes may still be dying: removeCgroup waits for them.
		for _, q := range subs {
			if q.IsDir() {
				removeCgroup(filepath.Join(dir, q.Name()))
			}
		}
		removeCgroup(dir)
	}
}
