package main

import (
	"fmt"
	"math/rand/v2"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/qube-desktop/qube-desktop/internal/adminapi"
	"github.com/qube-desktop/qube-desktop/internal/driver/sandbox"
	"github.com/qube-desktop/qube-desktop/internal/store"
	"github.com/qube-desktop/qube-desktop/internal/testenv"
)

const runMainEnv = "QUBE_HOSTD_TEST_RUN_MAIN"

func TestMain(m *testing.M) {
	sandbox.RunInitIfRequested()
	if os.Getenv(runMainEnv) == "1" {
		main()
		return
	}
	code := m.Run()
	if buildOnce.dir != "" {
		os.RemoveAll(buildOnce.dir)
	}
	os.Exit(code)
}

// TestSIGKILLDuringChangesKeepsTheStore kills the real daemon at random
// moments while a client creates, changes and removes qubes, restarts it
// on the same data, and checks the store after every kill.
func TestSIGKILLDuringChangesKeepsTheStore(t *testing.T) {
	iterations := 40
	if testing.Short() {
		iterations = 8
	}
	dir := t.TempDir()
	data := filepath.Join(dir, "data")
	sock := filepath.Join(dir, "run", "qubesd.sock")
	rng := rand.New(rand.NewPCG(7, uint64(time.Now().UnixNano())))
	checked := 0
	for it := range iterations {
		cmd := exec.Command(os.Args[0], "-socket", sock, "-data", data)
		cmd.Env = append(os.Environ(), runMainEnv+"=1")
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		waitSocket(t, sock)
		stop := make(chan struct{})
		done := make(chan int)
		go func() { done <- churn(sock, it, stop) }()
		time.Sleep(time.Duration(5+rng.IntN(200)) * time.Millisecond)
		cmd.Process.Kill()
		cmd.Wait()
		close(stop)
		calls := <-done

		c, err := store.Load(data)
		if err != nil {
			t.Fatalf("iteration %d (%d calls): store unreadable after SIGKILL: %v", it, calls, err)
		}
		for name, q := range c.Qubes {
			if name == store.AdminVM {
				continue
			}
			checked++
			if q.Props["label"] == "" || q.UUID == "" {
				t.Fatalf("iteration %d: qube %s half-defined: %+v", it, name, q)
			}
			if tpl := q.Props["template"]; q.Class == "AppVM" && c.Qubes[tpl] == nil {
				t.Fatalf("iteration %d: %s refers to missing template %q", it, name, tpl)
			}
			if _, err := os.Stat(filepath.Join(data, "qubes", name, "home")); err != nil {
				t.Fatalf("iteration %d: stored qube %s has no home: %v", it, name, err)
			}
		}
	}
	if checked == 0 {
		t.Fatal("no qube was ever stored; the test proved nothing")
	}
	t.Logf("%d daemon kills, %d qube records checked", iterations, checked)
}

func waitSocket(t *testing.T, sock string) {
	deadline := time.Now().Add(10 * time.Second)
	for {
		if c, err := net.Dial("unix", sock); err == nil {
			c.Close()
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("daemon did not listen on %s", sock)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// churn sends create/set/remove calls until stop or the daemon is gone.
func churn(sock string, seed int, stop <-chan struct{}) int {
	n := 0
	for i := seed * 1000; ; i++ {
		select {
		case <-stop:
			return n
		default:
		}
		tpl, app := fmt.Sprintf("t%d", i%2), fmt.Sprintf("a%d", i%4)
		reqs := []adminapi.Request{
			{Method: "admin.vm.Create.TemplateVM", Dest: "dom0", Payload: []byte("name=" + tpl + " label=black")},
			{Method: "admin.vm.Create.AppVM", Arg: tpl, Dest: "dom0", Payload: []byte("name=" + app + " label=red")},
			{Method: "admin.vm.property.Set", Arg: "memory", Dest: app, Payload: []byte(fmt.Sprint(100 + i))},
			{Method: "admin.vm.feature.Set", Arg: "f", Dest: app, Payload: []byte(fmt.Sprint(i))},
			{Method: "admin.vm.Remove", Dest: fmt.Sprintf("a%d", (i+2)%4)},
			{Method: "admin.vm.Remove", Dest: tpl},
		}
		for _, r := range reqs {
			r.Source = "dom0"
			c, err := net.Dial("unix", sock)
			if err != nil {
				return n
			}
			c.Write(r.Bytes())
			c.(*net.UnixConn).CloseWrite()
			buf := make([]byte, 512)
			c.Read(buf)
			c.Close()
			n++
		}
	}
}

// Qubes die with the daemon: after SIGKILL of qube-hostd no process of a
// qube it ran is left.
func TestQubesDieWithTheDaemon(t *testing.T) {
	testenv.NeedCommands(t, "bwrap")
	dir := t.TempDir()
	// A root daemon runs qubes as nobody, who must reach the homes.
	os.Chmod(dir, 0o711)
	os.Chmod(filepath.Dir(dir), 0o711)
	sock := filepath.Join(dir, "run", "qubesd.sock")
	cmd := exec.Command(os.Args[0], "-socket", sock, "-data", filepath.Join(dir, "data"), "-examples")
	cmd.Env = append(os.Environ(), runMainEnv+"=1")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Process.Kill()
	waitSocket(t, sock)
	marker := fmt.Sprintf("%d", 3000000+os.Getpid())
	for _, r := range []adminapi.Request{
		{Method: "admin.vm.Start", Dest: "work"},
		{Method: adminapi.RunMethod, Dest: "work", Payload: []byte("exec sleep " + marker)},
	} {
		r.Source = "dom0"
		if _, err := adminapi.DecodeResponse(r.Call(), roundTrip(t, sock, r.Bytes())); err != nil {
			t.Fatalf("%s: %v", r.Call(), err)
		}
	}
	waitProcs(t, marker, true)
	cmd.Process.Kill()
	cmd.Wait()
	waitProcs(t, marker, false)

	// The dead daemon's cgroups (if it had the freezer) go at the next start.
	pattern := fmt.Sprintf("qube-hostd-%d-*", cmd.Process.Pid)
	d, err := sandbox.New(sandbox.Config{})
	if err != nil {
		t.Fatal(err)
	}
	d.Close()
	for _, root := range []string{"/sys/fs/cgroup", "/sys/fs/cgroup/unified"} {
		if left, _ := filepath.Glob(filepath.Join(root, pattern)); len(left) > 0 {
			t.Errorf("cgroups of the killed daemon left: %v", left)
		}
	}
}

func roundTrip(t *testing.T, sock string, req []byte) []byte {
	c, err := net.Dial("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(20 * time.Second))
	c.Write(req)
	c.(*net.UnixConn).CloseWrite()
	var out []byte
	buf := make([]byte, 4096)
	for {
		n, err := c.Read(buf)
		out = append(out, buf[:n]...)
		if err != nil {
			return out
		}
	}
}

// waitProcs waits until a process whose command line holds marker exists
// (or no longer does).
func waitProcs(t *testing.T, marker string, present bool) {
	deadline := time.Now().Add(10 * time.Second)
	for {
		found := false
		ents, _ := os.ReadDir("/proc")
		for _, e := range ents {
			b, err := os.ReadFile("/proc/" + e.Name() + "/cmdline")
			if err == nil && strings.Contains(string(b), marker) {
				found = true
			}
		}
		if found == present {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("process with %q present=%v after 10 s", marker, found)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
