package sandbox

import (
	"bytes"
	"os"
	"strconv"
	"syscall"
	"time"

	"github.com/qube-desktop/qube-desktop/internal/driver"
)

// nsProcs lists the host pids of every process in the pid namespace whose
// init has host pid initPID (the init first).
func nsProcs(initPID int) []int {
	want, err := os.Readlink("/proc/" + strconv.Itoa(initPID) + "/ns/pid")
	if err != nil {
		return nil
	}
	pids := []int{initPID}
	ents, _ := os.ReadDir("/proc")
	for _, e := range ents {
		pid, err := strconv.Atoi(e.Name())
		if err != nil || pid == initPID {
			continue
		}
		if ns, err := os.Readlink("/proc/" + e.Name() + "/ns/pid"); err == nil && ns == want {
			pids = append(pids, pid)
		}
	}
	return pids
}

// Pause implements driver.Driver with the cgroup freezer or, without one,
// by stopping every process of the qube, init first so it starts nothing
// new; it rescans until no process is left running, which catches children
// forked during the scan.
func (d *Driver) Pause(name string) error {
	s, err := d.get(name)
	if err != nil || s.initPID == 0 {
		return driver.ErrNotRunning
	}
	d.mu.Lock()
	if s.paused {
		d.mu.Unlock()
		return driver.ErrNotRunning
	}
	s.paused = true
	d.mu.Unlock()
	if s.cgroup != "" {
		return freeze(s.cgroup, true)
	}
	stopped := map[int]bool{}
	for range 50 {
		fresh := false
		for _, pid := range nsProcs(s.initPID) {
			if !stopped[pid] {
				_ = syscall.Kill(pid, syscall.SIGSTOP)
				stopped[pid] = true
				fresh = true
			}
		}
		if !fresh {
			break
		}
	}
	return nil
}

// Unpause implements driver.Driver.
func (d *Driver) Unpause(name string) error {
	s, err := d.get(name)
	if err != nil {
		return err
	}
	d.mu.Lock()
	if !s.paused {
		d.mu.Unlock()
		return driver.ErrNotPaused
	}
	s.paused = false
	d.mu.Unlock()
	if s.cgroup != "" {
		return freeze(s.cgroup, false)
	}
	pids := nsProcs(s.initPID)
	// Children before the init, so it does not see them stopped.
	for i := len(pids) - 1; i >= 0; i-- {
		_ = syscall.Kill(pids[i], syscall.SIGCONT)
	}
	return nil
}

// clockTick is USER_HZ, 100 on every Linux ABI Go supports.
const clockTick = 100

// Stats implements driver.Driver from /proc: CPU time of every process in
// the qube including what its reaped children used, and resident memory.
func (d *Driver) Stats(name string) (driver.Stats, error) {
	s, err := d.get(name)
	if err != nil || s.initPID == 0 {
		return driver.Stats{}, driver.ErrNotRunning
	}
	var ticks, rssPages uint64
	for _, pid := range nsProcs(s.initPID) {
		b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
		if err != nil {
			continue
		}
		// Fields after the command name, which may hold spaces: state is
		// field 3, utime..cstime 14..17, rss 24.
		i := bytes.LastIndexByte(b, ')')
		if i < 0 {
			continue
		}
		f := bytes.Fields(b[i+1:])
		if len(f) < 22 {
			continue
		}
		for _, k := range []int{11, 12, 13, 14} {
			v, _ := strconv.ParseUint(string(f[k]), 10, 64)
			ticks += v
		}
		v, _ := strconv.ParseUint(string(f[21]), 10, 64)
		rssPages += v
	}
	return driver.Stats{
		CPUTime:  time.Duration(ticks) * time.Second / clockTick,
		MemoryKB: rssPages * uint64(os.Getpagesize()) / 1024,
	}, nil
}
