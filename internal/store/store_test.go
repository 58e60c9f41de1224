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

// A snapshot from View is shared, not copied: an Update must build a new
// collection and leave every snapshot already handed out as it was.
func TestUpdateLeavesSnapshotsAlone(t *testing.T) {
	s, err := Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	err = s.Update(func(c *Collection) error {
		c.Qubes["work"] = &Qube{Name: "work", Class: "AppVM", UUID: NewUUID(), QID: 1,
			Props: map[string]string{"label": "blue"}, Features: map[string]string{"f": "1"}, Tags: []string{"t"}}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	old := s.View()
	if s.View() != old {
		t.Fatal("View copied the collection")
	}
	err = s.Update(func(c *Collection) error {
		w := c.Qubes["work"]
		w.Props["label"], w.Features["f"], w.Notes = "red", "2", "n"
		w.Tags = append(w.Tags[:0], "u")
		c.Labels = append(c.Labels[:1], Label{Name: "new", Color: "0x010203", Index: 9})
		c.Global["default_netvm"] = "work"
		delete(c.Qubes, "work")
		c.Qubes["other"] = &Qube{Name: "other", Class: "AppVM", UUID: NewUUID(), QID: 2}
		c.Qubes["other2"] = w
		w.Name = "other2"
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	w := old.Qubes["work"]
	if w == nil || w.Name != "work" || w.Props["label"] != "blue" || w.Features["f"] != "1" ||
		w.Tags[0] != "t" || w.Notes != "" || old.Qubes["other"] != nil || len(old.Qubes) != 2 {
		t.Fatalf("old snapshot changed: %+v, %d qubes", w, len(old.Qubes))
	}
	if len(old.Labels) != 8 || old.Labels[1].Name != DefaultLabels()[1].Name || len(old.Global) != 0 {
		t.Fatalf("old snapshot's labels or globals changed: %v %v", old.Labels, old.Global)
	}
	if n := s.View(); n == old || n.Qubes["other2"].Props["label"] != "red" || n.Global["default_netvm"] != "work" {
		t.Fatalf("new snapshot not current: %+v", n.Qubes["other2"])
	}
}

// Readers run while writers swap the collection (meaningful under -race).
func TestConcurrentViewAndUpdate(t *testing.T) {
	s, err := Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	done := make(chan struct{})
	go func() {
		defer close(done)
		for i := range 20 {
			v := strconv.Itoa(i)
			if err := s.Update(func(c *Collection) error {
				c.Qubes[AdminVM].Props["a"], c.Qubes[AdminVM].Props["b"] = v, v
				return nil
			}); err != nil {
				t.Error(err)
			}
		}
	}()
	for {
		select {
		case <-done:
			if p := s.View().Qubes[AdminVM].Props; p["a"] != "19" {
				t.Fatalf("last update lost: %v", p)
			}
			return
		default:
		}
		p := s.View().Qubes[AdminVM].Props
		if p["a"] != p["b"] {
			t.Fatalf("reader saw a half-applied update: %v", p)
		}
	}
}

// BenchmarkView1000 is one View of a store holding 1000 qubes.
func BenchmarkView1000(b *testing.B) {
	s, err := Open(b.TempDir())
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	err = s.Update(func(c *Collection) error {
		for i := range 999 {
			n := fmt.Sprint("q", i)
			c.Qubes[n] = &Qube{Name: n, Class: "AppVM", UUID: NewUUID(), QID: i + 1,
				Props: map[string]string{"label": "red", "template": "t"}, Features: map[string]string{"f": "1"}}
		}
		return nil
	})
	if err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		if len(s.View().Qubes) != 1000 {
			b.Fatal("qubes lost")
		}
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
