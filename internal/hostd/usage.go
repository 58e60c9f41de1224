package hostd

import (
	"io/fs"
	"path/filepath"
	"sync"
	"syscall"
	"time"
)

// How long a measured home's usage is answered from the cache. A running
// qube writes to its home all the time, so its figure is refreshed after a
// few seconds (a manager polls about that often). A halted qube's home only
// changes through the daemon (clone, remove, the qube's next run), which
// forgets the figure at once; the long limit only picks up files the host's
// user changes by hand.
const (
	usageMaxAgeRunning = 5 * time.Second
	usageMaxAgeHalted  = 5 * time.Minute
)

// usageCache remembers the disk usage of qube homes. Walking a home costs a
// stat per file, and a manager asks for every qube's usage at once: without
// the cache 1000 qubes with real homes mean millions of stats per load.
type usageCache struct {
	mu sync.Mutex
	m  map[string]usageEntry
	// gen counts forget calls; a walk that overlapped one is not stored,
	// as it may have measured the home before the change.
	gen uint64
}

type usageEntry struct {
	bytes uint64
	at    time.Time
}

// get returns the usage of the qube's home, walking it if the cached
// figure is missing or older than maxAge.
func (u *usageCache) get(name, dir string, maxAge time.Duration) uint64 {
	u.mu.Lock()
	e, ok := u.m[name]
	gen := u.gen
	u.mu.Unlock()
	if ok && time.Since(e.at) < maxAge {
		return e.bytes
	}
	e = usageEntry{bytes: diskUsage(dir), at: time.Now()}
	u.mu.Lock()
	if u.gen == gen {
		if u.m == nil {
			u.m = map[string]usageEntry{}
		}
		u.m[name] = e
	}
	u.mu.Unlock()
	return e.bytes
}

// forget drops a qube's figure after its home changed.
func (u *usageCache) forget(name string) {
	u.mu.Lock()
	delete(u.m, name)
	u.gen++
	u.mu.Unlock()
}

// diskUsage sums the allocated blocks under dir.
func diskUsage(dir string) uint64 {
	var total uint64
	filepath.WalkDir(dir, func(_ string, d fs.DirEntry, err error) error {
		if err != nil {
			return nil
		}
		if fi, err := d.Info(); err == nil {
			if st, ok := fi.Sys().(*syscall.Stat_t); ok {
				total += uint64(st.Blocks) * 512
			}
		}
		return nil
	})
	return total
}
