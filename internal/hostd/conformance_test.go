package hostd

import (
	"bytes"
	"errors"
	"io"
	"net"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/qube-desktop/qube-desktop/internal/adminapi"
	"github.com/qube-desktop/qube-desktop/internal/adminapi/adminapitest"
)

// kindOf classifies a response as the conformance check compares them.
func kindOf(resp []byte) string {
	switch {
	case len(resp) == 0:
		return "empty"
	case bytes.HasPrefix(resp, []byte("0\x00")):
		return "success"
	case bytes.HasPrefix(resp, []byte("1\x00")):
		return "events"
	case bytes.HasPrefix(resp, []byte("2\x00")):
		class, _, _ := bytes.Cut(resp[2:], []byte{0})
		return "exception " + string(class)
	}
	return "malformed"
}

var volatile = regexp.MustCompile(`[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}|disp[0-9]+|[0-9]+`)

// divergences are the recordings whose answer kind hostd deliberately does
// not reproduce, and why. The test fails if this list is not exact.
var divergences = map[string]string{
	"027-admin.vm.CurrentState-dom0":                   "recording artifact: offline qubesd had no libvirt; hostd reports host memory",
	"105-admin.vm.Create.AppVM-no-template-no-default": "upstream drops the connection; hostd says QubesNoTemplateError",
	"225-admin.vm.property.Set-autostart":              "recording artifact: qubesd ran sudo systemctl; hostd autostarts qubes itself",
	"320-admin.vm.notes.Set":                           "recording artifact: libqubes-pure was missing; hostd sanitises notes itself",
	"411-admin.vm.Start-offline":                       "recording artifact: qubesd dropped the connection (no qmemman); hostd reports the driver's failure",
	"023-admin.pool.Info-varlibqubes":                  "hostd has one pool, named sandbox",
	"024-admin.pool.UsageDetails-varlibqubes":          "hostd has one pool, named sandbox",
	"405-admin.pool.volume.List-varlibqubes":           "hostd has one pool, named sandbox",
	"429-admin.backup.Info":                            "hostd has no backup profiles",
}

// TestConformanceWithRecordedQubesd replays the recorded requests in order
// against a daemon seeded like the recording (dom0 and the eight labels)
// and compares the kind of every answer, and its bytes after masking uuids,
// numbers and disposable names.
func TestConformanceWithRecordedQubesd(t *testing.T) {
	recs := adminapitest.Load(t)
	d := startDaemon(t, failingDriver(t))

	// The recording's all-events listener ran throughout.
	evr, evc := d.events(t, "dom0")
	var got []adminapi.Event
	evDone := make(chan struct{})
	go func() {
		defer close(evDone)
		evc.SetReadDeadline(time.Time{})
		for {
			ev, err := evr.Next()
			if err != nil {
				return
			}
			got = append(got, ev)
		}
	}()

	total, kindOK, sameBytes := 0, 0, 0
	var diverged []string
	for _, r := range recs {
		if strings.HasPrefix(r.Name, "50") { // long-lived event streams, below
			continue
		}
		total++
		resp := d.replay(t, r.Request)
		want, have := kindOf(r.Response), kindOf(resp)
		if want == have {
			kindOK++
			if bytes.Equal(volatile.ReplaceAll(resp, []byte("N")), volatile.ReplaceAll(r.Response, []byte("N"))) {
				sameBytes++
			} else if testing.Verbose() {
				t.Logf("%s: same kind, different bytes:\n  qubesd %q\n  hostd  %q", r.Name, trunc(r.Response), trunc(resp))
			}
			continue
		}
		diverged = append(diverged, r.Name)
		if _, known := divergences[r.Name]; !known {
			t.Errorf("%s: qubesd answered %s, hostd %s: %q", r.Name, want, have, trunc(resp))
		}
	}
	for name := range divergences {
		if !slices.Contains(diverged, name) {
			t.Errorf("%s is listed as a divergence but now matches: update the list", name)
		}
	}
	t.Logf("conformance: %d of %d recorded requests answered with the same kind (success / same exception class / no answer); %d byte-identical after masking uuids and numbers; %d known divergences",
		kindOK, total, sameBytes, len(diverged))

	evc.Close()
	<-evDone
	want := recordedEvents(t, recs, "500-admin.Events-all")
	n := lcs(want, got)
	t.Logf("events: %d of the %d events qubesd sent appear in hostd's stream in the same order (hostd sent %d)", n, len(want), len(got))
	if n < len(want)*3/4 {
		t.Errorf("only %d of %d recorded events matched", n, len(want))
	}
}

func trunc(b []byte) []byte {
	if len(b) > 200 {
		return b[:200]
	}
	return b
}

// replay sends one recorded request; a stream (admin.vm.Stats) is read
// until its first event.
func (d *testDaemon) replay(t *testing.T, req []byte) []byte {
	if !bytes.HasPrefix(req, []byte("admin.vm.Stats")) {
		return d.roundTrip(t, req)
	}
	c, err := net.Dial("unix", d.sock)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.Write(req)
	c.(*net.UnixConn).CloseWrite()
	c.SetReadDeadline(time.Now().Add(5 * time.Second))
	buf := make([]byte, 27)
	n, _ := io.ReadFull(c, buf)
	return buf[:n]
}

func recordedEvents(t *testing.T, recs []*adminapitest.Recording, name string) []adminapi.Event {
	r := adminapitest.ByName(recs)[name]
	if r == nil {
		t.Fatalf("no recording %s", name)
	}
	er := adminapi.NewEventReader(bytes.NewReader(bytes.Join(r.Chunks, nil)))
	var evs []adminapi.Event
	for {
		ev, err := er.Next()
		if err != nil {
			if !errors.Is(err, io.EOF) && !errors.Is(err, io.ErrUnexpectedEOF) {
				t.Fatalf("%s: %v", name, err)
			}
			return evs
		}
		evs = append(evs, ev)
	}
}

// lcs is the length of the longest common subsequence of two event lists,
// comparing subject and name with disposable names masked.
func lcs(a, b []adminapi.Event) int {
	key := func(e adminapi.Event) string {
		return volatile.ReplaceAllString(e.Subject+"\x00"+e.Name, "N")
	}
	prev := make([]int, len(b)+1)
	for i := range a {
		cur := make([]int, len(b)+1)
		for j := range b {
			if key(a[i]) == key(b[j]) {
				cur[j+1] = prev[j] + 1
			} else {
				cur[j+1] = max(prev[j+1], cur[j])
			}
		}
		prev = cur
	}
	return prev[len(b)]
}
