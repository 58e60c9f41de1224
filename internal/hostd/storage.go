package hostd

import (
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"syscall"

	"github.com/qube-desktop/qube-desktop/internal/qube"
	"github.com/qube-desktop/qube-desktop/internal/store"
)

// Sandbox qubes keep their files in one directory pool under the data
// directory: the home of each qube is its "private" volume, the template's
// root directory (or the host's /) its "root" volume.
const poolName = "sandbox"

var volumes = []string{"root", "private", "volatile", "kernel"}

func poolList(*call) ([]byte, error) { return lines([]string{poolName}), nil }

func poolListDrivers(*call) ([]byte, error) { return lines([]string{"sandbox dir_path"}), nil }

func (c *call) pool() error {
	if c.req.Arg != poolName {
		return excf("QubesException", "No such storage pool: %s", c.req.Arg)
	}
	return nil
}

func (s *Server) statfs() (size, used uint64) {
	var st syscall.Statfs_t
	if syscall.Statfs(s.st.Dir(), &st) != nil {
		return 0, 0
	}
	bs := uint64(st.Bsize)
	return st.Blocks * bs, (st.Blocks - st.Bfree) * bs
}

func poolInfo(c *call) ([]byte, error) {
	if err := c.pool(); err != nil {
		return nil, err
	}
	size, used := c.s.statfs()
	return fmt.Appendf(nil, "dir_path=%s\ndriver=sandbox\nephemeral_volatile=True\nname=%s\nrevisions_to_keep=0\nsize=%d\nusage=%d\n",
		filepath.Join(c.s.st.Dir(), "qubes"), poolName, size, used), nil
}

func poolUsage(c *call) ([]byte, error) {
	if err := c.pool(); err != nil {
		return nil, err
	}
	size, used := c.s.statfs()
	return fmt.Appendf(nil, "data_size=%d\ndata_usage=%d\n", size, used), nil
}

func poolVolumeList(c *call) ([]byte, error) {
	if err := c.pool(); err != nil {
		return nil, err
	}
	var vids []string
	for name, q := range c.v.c.Qubes {
		if name != store.AdminVM && q.Class != "DispVM" {
			vids = append(vids, "qubes/"+name+"/private")
		}
	}
	slices.Sort(vids)
	return lines(vids), nil
}

func volumeList(c *call) ([]byte, error) {
	if c.dest.Name == store.AdminVM {
		return nil, nil
	}
	return lines(volumes), nil
}

func volumeSnapshots(c *call) ([]byte, error) {
	if !slices.Contains(volumes, c.req.Arg) || c.dest.Name == store.AdminVM {
		return nil, excf("PermissionDenied", "Argument not in '%s volumes'", c.dest.Name)
	}
	return nil, nil
}

// rootDir is the directory a qube runs on: its template's (or its own)
// sandbox.root feature, or the host's /.
func (v *view) rootDir(q *store.Qube) (dir, owner string) {
	owner = q.Name
	if isTemplateBased(q) {
		if t := v.c.Qubes[q.Props["template"]]; t != nil {
			owner = t.Name
			q = t
		}
	}
	if r := q.Features["sandbox.root"]; r != "" {
		return r, owner
	}
	return "/", ""
}

// homeUsage is the disk usage of a qube's home, from the cache while it is
// fresh enough for the qube's state.
func (s *Server) homeUsage(name string) uint64 {
	maxAge := usageMaxAgeRunning
	if s.state(name) == qube.Halted {
		maxAge = usageMaxAgeHalted
	}
	return s.usage.get(name, s.homeDir(name), maxAge)
}

func volumeInfo(c *call) ([]byte, error) {
	q := c.dest
	if !slices.Contains(volumes, c.req.Arg) || q.Name == store.AdminVM {
		return nil, excf("PermissionDenied", "Argument not in '%s volumes'", q.Name)
	}
	type info struct {
		vid, source, path               string
		usage                           uint64
		rw, saveOnStop, snap, ephemeral bool
	}
	root, owner := c.v.rootDir(q)
	var in info
	switch c.req.Arg {
	case "root":
		in = info{vid: "qubes/" + q.Name + "/root", path: root,
			rw: q.Class == "TemplateVM" && owner == q.Name, snap: isTemplateBased(q)}
		if owner != "" && owner != q.Name {
			in.source = "qubes/" + owner + "/root"
		}
	case "private":
		if q.Class == "DispVM" {
			in = info{vid: "qubes/" + q.Name + "/private", path: "tmpfs", rw: true, ephemeral: true}
		} else {
			home := c.s.homeDir(q.Name)
			in = info{vid: "qubes/" + q.Name + "/private", path: home, rw: true, saveOnStop: true, usage: c.s.homeUsage(q.Name)}
		}
	case "volatile":
		in = info{vid: "qubes/" + q.Name + "/volatile", path: "tmpfs", rw: true, ephemeral: true}
	case "kernel":
		in = info{vid: "qubes/" + q.Name + "/kernel", path: ""}
	}
	var b strings.Builder
	fmt.Fprintf(&b, "pool=%s\nvid=%s\nsize=%d\nusage=%d\nrw=%s\nsource=%s\npath=%s\n", poolName, in.vid, in.usage, in.usage, pyBool(in.rw), in.source, in.path)
	fmt.Fprintf(&b, "save_on_stop=%s\nsnap_on_start=%s\nrevisions_to_keep=0\nephemeral=%s\nis_outdated=False\n",
		pyBool(in.saveOnStop), pyBool(in.snap), pyBool(in.ephemeral))
	return []byte(b.String()), nil
}
