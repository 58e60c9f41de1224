package e2e

import (
	"bufio"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/qube-desktop/qube-desktop/internal/testenv"
)

// TestBenchWindowPath is the side-by-side benchmark of issue 5: the same
// repaint workload through qube-agent + qube-guid and through
// `waypipe -c none -n`, into the same headless weston. It measures CPU
// from /proc, so it is a test run on demand, not a Go benchmark:
//
//	QUBE_BENCH=1 go test ./internal/e2e -run TestBenchWindowPath -v -count=1
func TestBenchWindowPath(t *testing.T) {
	if os.Getenv("QUBE_BENCH") == "" {
		t.Skip("set QUBE_BENCH=1 to run the window path benchmark")
	}
	testenv.NeedCommands(t, "waypipe")
	comp := testenv.StartWeston(t, 2048, 1280)
	cases := []struct {
		name       string
		x, y, w, h int
	}{
		{"full 1920x1080", 0, 0, 1920, 1080},
		{"damage 200x40", 300, 500, 200, 40},
	}
	// Both sides are paced at the same frame rate, so neither merges
	// frames: the agent takes all damage since its last copy at once, and
	// an unpaced X client would be counted for frames nobody copied.
	const frames, interval = 600, time.Second / 60
	type result struct {
		fps                     float64
		agent, guid, xvfb, comp time.Duration // CPU per frame
	}
	qubes := make([]result, len(cases))
	xOnly := make([]time.Duration, len(cases))
	wps := make([]result, len(cases))
	repaint := func(k int) string {
		r := cases[k]
		return fmt.Sprintf("repaint 1 %d %d %d %d %d %d", frames, r.x, r.y, r.w, r.h, interval.Microseconds())
	}
	per := func(before, after []time.Duration, j int) time.Duration { return (after[j] - before[j]) / frames }

	// The qube side: client → Xvfb → qube-agent → region → qube-guid → weston.
	s := newStack(t, comp, 1920, 1080)
	s.startAgent()
	s.startGuid()
	c := s.startClient()
	c.do("window 1 0 0 1920 1080", "mapped 1")
	time.Sleep(time.Second) // let the first full frame settle
	xvfb, weston := childByName(t, "Xvfb"), childByName(t, "weston")
	agent, guid := s.agent.cmd.Process.Pid, s.guid.cmd.Process.Pid
	for k := range cases {
		before := cpuOf(agent, guid, xvfb, weston)
		start := time.Now()
		c.do(repaint(k), "ok")
		wall := time.Since(start)
		after := cpuOf(agent, guid, xvfb, weston)
		qubes[k] = result{fps: frames / wall.Seconds(), agent: per(before, after, 0), guid: per(before, after, 1),
			xvfb: per(before, after, 2), comp: per(before, after, 3)}
	}
	// Xvfb's share of the capture (MIT-SHM copies into the region) is what
	// it spends beyond drawing the same frames with nobody watching.
	s.agent.stop(9)
	s.guid.stop(9)
	for k := range cases {
		before := cpuOf(xvfb)
		c.do(repaint(k), "ok")
		xOnly[k] = per(before, cpuOf(xvfb), 0)
	}

	// The waypipe side: wl_shm client → waypipe server → socket → waypipe client → weston.
	dir, err := os.MkdirTemp("", "qube-bench-wp-")
	if err != nil {
		t.Fatal(err)
	}
	defer os.RemoveAll(dir)
	sock := filepath.Join(dir, "wp.sock")
	wc := exec.Command("waypipe", "-c", "none", "-n", "-s", sock, "client")
	wc.Env = comp.Env()
	wpc := start(t, "waypipe client", wc)
	for k, r := range cases {
		ws := exec.Command("waypipe", "-c", "none", "-n", "-s", sock, "server", "--", os.Args[0])
		ws.Env = append(os.Environ(), "XDG_RUNTIME_DIR="+dir, fmt.Sprintf("%s=%d %d %d %d %d %d %d %d",
			shmclientEnv, 1920, 1080, frames, r.x, r.y, r.w, r.h, interval.Microseconds()))
		out, err := ws.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		start(t, "waypipe server", ws)
		lines := bufio.NewScanner(out)
		expectLine(t, lines, "ready")
		// Every waypipe process (each end forks per connection), not the app.
		pids := append(descendants(wpc.cmd.Process.Pid), descendants(ws.Process.Pid)...)
		before := cpuOf(append(pids, weston)...)
		t0 := time.Now()
		expectLine(t, lines, "done")
		wall := time.Since(t0)
		after := cpuOf(append(pids, weston)...)
		var bridge time.Duration
		for j := range pids {
			bridge += after[j] - before[j]
		}
		wps[k] = result{fps: frames / wall.Seconds(), agent: bridge / frames, comp: per(before, after, len(pids))}
	}

	us := func(d time.Duration) string { return fmt.Sprintf("%.0f µs", float64(d)/float64(time.Microsecond)) }
	t.Logf("%d frames at %v each; CPU per frame from /proc/PID/stat (10 ms ticks)", frames, interval)
	t.Logf("| case | qube fps | agent | guid | agent+guid | Xvfb capture share | waypipe fps | waypipe (both ends) | ratio agent+guid | ratio incl. Xvfb share | weston qube / waypipe |")
	t.Logf("| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |")
	for k, r := range cases {
		q, w := qubes[k], wps[k]
		bridge := q.agent + q.guid
		share := max(q.xvfb-xOnly[k], 0)
		t.Logf("| %s | %.1f | %s | %s | %s | %s | %.1f | %s | %.1fx | %.1fx | %s / %s |", r.name, q.fps, us(q.agent), us(q.guid),
			us(bridge), us(share), w.fps, us(w.agent), float64(w.agent)/float64(max(bridge, 1)),
			float64(w.agent)/float64(max(bridge+share, 1)), us(q.comp), us(w.comp))
	}
}

func expectLine(t *testing.T, lines *bufio.Scanner, want string) {
	t.Helper()
	for lines.Scan() {
		if lines.Text() == want {
			return
		}
	}
	t.Fatalf("the wl_shm client ended before printing %q", want)
}

// userHZ is the unit of utime and stime in /proc/PID/stat (USER_HZ, 100
// on every Linux ABI Go supports).
const userHZ = 100

// cpuOf returns the user+system CPU time each process has used so far.
func cpuOf(pids ...int) []time.Duration {
	d := make([]time.Duration, len(pids))
	for i, pid := range pids {
		f := statFields(pid)
		if len(f) < 15 {
			continue // exited
		}
		ut, _ := strconv.ParseInt(f[13], 10, 64)
		st, _ := strconv.ParseInt(f[14], 10, 64)
		d[i] = time.Duration(ut+st) * time.Second / userHZ
	}
	return d
}

// statFields splits /proc/PID/stat, whose second field (comm, in
// parentheses) may contain spaces.
func statFields(pid int) []string {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return nil
	}
	s := string(b)
	i := strings.LastIndexByte(s, ')')
	if i < 0 {
		return nil
	}
	return append([]string{s[:strings.IndexByte(s, ' ')], s[strings.IndexByte(s, '(')+1 : i]}, strings.Fields(s[i+1:])...)
}

// children returns the pid of every process whose parent is ppid.
func children(ppid int) []int {
	ents, _ := os.ReadDir("/proc")
	var out []int
	for _, e := range ents {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		if f := statFields(pid); len(f) > 3 && f[3] == strconv.Itoa(ppid) {
			out = append(out, pid)
		}
	}
	return out
}

// descendants returns pid and the processes below it, except copies of
// this test binary (the wl_shm client, whose own CPU is not the bridge's).
func descendants(pid int) []int {
	self, _ := os.Executable()
	out := []int{pid}
	for _, c := range children(pid) {
		if exe, _ := os.Readlink(fmt.Sprintf("/proc/%d/exe", c)); exe == self {
			continue
		}
		out = append(out, descendants(c)...)
	}
	return out
}

// childByName finds the one child of this process with the given comm.
func childByName(t *testing.T, comm string) int {
	t.Helper()
	for _, pid := range children(os.Getpid()) {
		if f := statFields(pid); f[1] == comm {
			return pid
		}
	}
	t.Fatalf("no child process %s", comm)
	return 0
}
