package store

import (
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"
	"time"
)

func TestOpenCreatesDefaults(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data")
	s, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	c := s.View()
	if d := c.Qubes[AdminVM]; d == nil || d.Class != "AdminVM" || d.Props["label"] != "black" {
		t.Fatalf("dom0 = %+v", d)
	}
	if len(c.Labels) != 8 || c.Labels[0] != (Label{"red", "0xcc0000", 1}) || c.Labels[7].Name != "black" {
		t.Fatalf("labels = %v", c.Labels)
	}
	if _, err := Open(dir); err == nil {
		t.Fatal("second Open of a locked store succeeded")
	}
	s.Close()
	fi, err := os.Stat(dir)
	if err != nil || fi.Mode().Perm() != 0o700 {
		t.Fatalf("data dir mode %v, %v", fi.Mode(), err)
	}
}

func TestUpdatePersistsAndRollsBack(t *testing.T) {
	dir := t.TempDir()
	s, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	err = s.Update(func(c *Collection) error {
		c.Qubes["work"] = &Qube{Name: "work", Class: "AppVM", UUID: NewUUID(), QID: c.NextQID(),
			Props: map[string]string{"label": "blue"}, Tags: []string{"created-by-dom0"}}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	// A failing update changes nothing.
	err = s.Update(func(c *Collection) error {
		c.Qubes["work"].Props["label"] = "red"
		return fmt.Errorf("no")
	})
	if err == nil || s.View().Qubes["work"].Props["label"] != "blue" {
		t.Fatalf("failed update leaked: %v", err)
	}
	// An update that breaks an invariant is refused.
	err = s.Update(func(c *Collection) error { delete(c.Qubes, AdminVM); return nil })
	if err == nil || s.View().Qubes[AdminVM] == nil {
		t.Fatal("removing dom0 was stored")
	}
	s.Close()
	c, err := Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	if w := c.Qubes["work"]; w == nil || w.QID != 1 || w.Props["label"] != "blue" || w.Tags[0] != "created-by-dom0" {
		t.Fatalf("reloaded work = %+v", w)
	}
}

func TestLoadRejectsCorruptFile(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, FileName), []byte(`{"version":1,"qubes":{`), 0o600)
	if _, err := Open(dir); err == nil {
		t.Fatal("corrupt store opened")
	}
}

// crashLoopEnv makes the test binary act as the writer that gets killed.
const crashLoopEnv = "QUBE_STORE_CRASH_LOOP_DIR"

func TestMain(m *testing.M) {
	if dir := os.Getenv(crashLoopEnv); dir != "" {
		crashLoop(dir)
		return
	}
	os.Exit(m.Run())
}

// crashLoop creates, changes and removes qubes forever. Every qube it
// writes has props a == b and a label; a half-applied update would break that.
func crashLoop(dir string) {
	s, err := Open(dir)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	os.Stdout.WriteString("ready\n")
	for i := 0; ; i++ {
		name := "q" + strconv.Itoa(i%7)
		v := strconv.Itoa(i)
		err := s.Update(func(c *Collection) error {
			q := c.Qubes[name]
			switch {
			case q == nil:
				c.Qubes[name] = &Qube{Name: name, Class: "AppVM", UUID: NewUUID(), QID: c.NextQID(),
					Props: map[string]string{"label": "red", "a": v, "b": v}}
			case i%3 == 0:
				delete(c.Qubes, name)
			default:
				q.Props["a"], q.Props["b"] = v, v
				q.Features = map[string]string{"f": v}
			}
			return nil
		})
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(3)
		}
	}
}

func TestSIGKILLDuringWritesNeverCorrupts(t *testing.T) {
	iterations := 150
	if testing.Short() {
		iterations = 20
	}
	dir := t.TempDir()
	rng := rand.New(rand.NewPCG(1, uint64(time.Now().UnixNano())))
	sawQubes := 0
	for it := range iterations {
		cmd := exec.Command(os.Args[0], "-test.run=^$")
		cmd.Env = append(os.Environ(), crashLoopEnv+"="+dir)
		out, err := cmd.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		buf := make([]byte, 6)
		if n, _ := out.Read(buf); string(buf[:n]) != "ready\n" {
			cmd.Process.Kill()
			cmd.Wait()
			t.Fatalf("iteration %d: writer did not start: %q", it, buf[:n])
		}
		time.Sleep(time.Duration(rng.IntN(20000)) * time.Microsecond)
		cmd.Process.Kill()
		cmd.Wait()

		c, err := Load(dir)
		if err != nil {
			t.Fatalf("iteration %d: store unreadable after SIGKILL: %v", it, err)
		}
		for name, q := range c.Qubes {
			if name == AdminVM {
				continue
			}
			sawQubes++
			if q.Props["a"] == "" || q.Props["a"] != q.Props["b"] || q.Props["label"] != "red" {
				t.Fatalf("iteration %d: qube %s half-defined: %+v", it, name, q)
			}
			if f, ok := q.Features["f"]; ok && f != q.Props["a"] {
				t.Fatalf("iteration %d: qube %s features out of step: %+v", it, name, q)
			}
		}
	}
	if sawQubes == 0 {
		t.Fatal("the writer never got a qube stored; the test proved nothing")
	}
	t.Logf("%d kills, %d qube records checked", iterations, sawQubes)
}
