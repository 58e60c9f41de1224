// Package adminapitest serves recorded qubesd answers to tests and
// benchmarks: the fixtures recorded from the real qubesd, replayed on a Unix
// socket, and a synthetic qubesd with many qubes built from the recorded
// formats.
package adminapitest

import (
	"encoding/base64"
	"encoding/json"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/qube-desktop/qube-desktop/internal/testenv"
)

// FixturesEnv overrides where the recordings are.
const FixturesEnv = "QUBE_FIXTURES"

// Recording is one recorded connection.
type Recording struct {
	Name     string
	Request  []byte
	Response []byte
	// From NAME.json (absent for the long-lived event streams):
	Kind     string // success, exception, events, empty
	ExcClass string
	ExcMsg   string
	Chunks   [][]byte // event streams: the recv() chunks, in order
}

// Dir returns the recordings folder: $QUBE_FIXTURES, or shared/fixtures/qubesd
// beside the repository (found by walking up from the working directory to
// go.mod). A missing folder skips the test, or fails it under CI=true.
func Dir(tb testing.TB) string {
	tb.Helper()
	if d := os.Getenv(FixturesEnv); d != "" {
		if _, err := os.Stat(filepath.Join(d, "INDEX.md")); err != nil {
			testenv.Missing(tb, "qubesd recordings not found at $%s=%s", FixturesEnv, d)
		}
		return d
	}
	wd, err := os.Getwd()
	if err != nil {
		tb.Fatal(err)
	}
	for d := wd; ; d = filepath.Dir(d) {
		if _, err := os.Stat(filepath.Join(d, "go.mod")); err == nil {
			fx := filepath.Join(d, "..", "shared", "fixtures", "qubesd")
			if _, err := os.Stat(filepath.Join(fx, "INDEX.md")); err != nil {
				testenv.Missing(tb, "qubesd recordings not found at %s (set %s)", fx, FixturesEnv)
			}
			return fx
		}
		if filepath.Dir(d) == d {
			testenv.Missing(tb, "no go.mod above %s to locate the qubesd recordings (set %s)", wd, FixturesEnv)
			return ""
		}
	}
}

// Load reads every recording (every NAME.req.bin) in name order.
func Load(tb testing.TB) []*Recording {
	tb.Helper()
	dir := Dir(tb)
	reqs, err := filepath.Glob(filepath.Join(dir, "*.req.bin"))
	if err != nil || len(reqs) == 0 {
		tb.Fatalf("no *.req.bin recordings in %s: %v", dir, err)
	}
	sort.Strings(reqs)
	var out []*Recording
	for _, p := range reqs {
		name := strings.TrimSuffix(filepath.Base(p), ".req.bin")
		r := &Recording{Name: name, Request: read(tb, p), Response: read(tb, filepath.Join(dir, name+".resp.bin"))}
		if b, err := os.ReadFile(filepath.Join(dir, name+".json")); err == nil {
			var j struct {
				Decoded struct {
					Kind    string `json:"kind"`
					ExcType string `json:"exc_type"`
					Message string `json:"message"`
				} `json:"decoded"`
			}
			if err := json.Unmarshal(b, &j); err != nil {
				tb.Fatalf("%s.json: %v", name, err)
			}
			r.Kind, r.ExcClass, r.ExcMsg = j.Decoded.Kind, j.Decoded.ExcType, j.Decoded.Message
		}
		if b, err := os.ReadFile(filepath.Join(dir, name+".chunks.json")); err == nil {
			var j struct {
				Chunks []struct {
					B64 string `json:"b64"`
				} `json:"chunks"`
			}
			if err := json.Unmarshal(b, &j); err != nil {
				tb.Fatalf("%s.chunks.json: %v", name, err)
			}
			for _, c := range j.Chunks {
				d, err := base64.StdEncoding.DecodeString(c.B64)
				if err != nil {
					tb.Fatalf("%s.chunks.json: %v", name, err)
				}
				r.Chunks = append(r.Chunks, d)
			}
			r.Kind = "events"
		}
		if r.Kind == "" {
			tb.Fatalf("recording %s has neither .json nor .chunks.json", name)
		}
		out = append(out, r)
	}
	return out
}

func read(tb testing.TB, p string) []byte {
	b, err := os.ReadFile(p)
	if err != nil {
		tb.Fatal(err)
	}
	return b
}

// ByName indexes recordings by name.
func ByName(recs []*Recording) map[string]*Recording {
	m := make(map[string]*Recording, len(recs))
	for _, r := range recs {
		m[r.Name] = r
	}
	return m
}
