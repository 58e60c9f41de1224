package adminapi

import (
	"bytes"
	"errors"
	"io"
	"reflect"
	"testing"
)

// Seeds beyond f.Add live in testdata/fuzz/<name>, taken from the recordings.

func FuzzDecodeResponse(f *testing.F) {
	f.Add([]byte("0\x00default=True type=vm "))
	f.Add([]byte("2\x00QubesValueError\x00\x00Failed to parse property value as int\x00"))
	f.Add([]byte("2\x00X\x00"))
	f.Add([]byte(""))
	f.Fuzz(func(t *testing.T, b []byte) {
		body, err := DecodeResponse("m", b)
		var e *Error
		switch {
		case err == nil:
			if !bytes.Equal(append([]byte("0\x00"), body...), b) {
				t.Fatalf("body %q from %q", body, b)
			}
		case errors.As(err, &e):
			if e.Class == "" || b[0] != '2' {
				t.Fatalf("exception %+v from %q", e, b)
			}
		case len(b) == 0 && !errors.Is(err, ErrNoAnswer):
			t.Fatalf("empty answer gave %v", err)
		}
	})
}

func FuzzParseRequest(f *testing.F) {
	f.Add([]byte("admin.vm.List+ dom0 name dom0\x00"))
	f.Add([]byte("admin.vm.List+ dom0 keyword adminvm\x00"))
	f.Add([]byte("admin.vm.feature.Set+menu-items dom0 name work\x00a\x00b"))
	f.Add([]byte("admin.vm.List+ dom0 name dom0"))
	f.Fuzz(func(t *testing.T, b []byte) {
		r, err := ReadRequest(bytes.NewReader(b), 0)
		if err != nil {
			if !errors.Is(err, ErrFraming) && !errors.Is(err, ErrRequestTooLong) {
				t.Fatalf("unexpected error kind %v", err)
			}
			return
		}
		again, err := ParseRequest(r.Bytes())
		if err != nil || !reflect.DeepEqual(again, r) && !(len(again.Payload) == 0 && len(r.Payload) == 0) {
			t.Fatalf("round trip %+v -> %q -> %+v, %v", r, r.Bytes(), again, err)
		}
	})
}

// oneByte reads one byte at a time: the worst read boundaries.
type oneByte struct{ r io.Reader }

func (o oneByte) Read(p []byte) (int, error) { return o.r.Read(p[:min(1, len(p))]) }

func FuzzEventReader(f *testing.F) {
	f.Add([]byte("1\x00\x00connection-established\x00\x00"))
	f.Add([]byte("1\x00work\x00property-set:label\x00name\x00label\x00newvalue\x00red\x00oldvalue\x00blue\x00\x001\x00"))
	f.Add([]byte("2\x00QubesException\x00\x00no\x00"))
	f.Fuzz(func(t *testing.T, b []byte) {
		var whole, bytewise []Event
		var werr, berr error
		for r := NewEventReader(bytes.NewReader(b)); ; {
			ev, err := r.Next()
			if err != nil {
				werr = err
				break
			}
			whole = append(whole, ev)
		}
		for r := NewEventReader(oneByte{bytes.NewReader(b)}); ; {
			ev, err := r.Next()
			if err != nil {
				berr = err
				break
			}
			bytewise = append(bytewise, ev)
		}
		if !reflect.DeepEqual(whole, bytewise) || (werr == io.EOF) != (berr == io.EOF) {
			t.Fatalf("read boundaries change the result: %v/%v vs %v/%v", whole, werr, bytewise, berr)
		}
		for _, ev := range whole {
			again, err := NewEventReader(bytes.NewReader(AppendEvent(nil, ev))).Next()
			if err != nil || !reflect.DeepEqual(again, ev) {
				t.Fatalf("re-encoding %+v gave %+v, %v", ev, again, err)
			}
		}
	})
}

func FuzzParseValues(f *testing.F) {
	f.Add([]byte("default=True type=vm work"))
	f.Add([]byte("autostart default=True type=bool False\nkernelopts default=True type=str a\\nb\\\\c\n"))
	f.Add([]byte("dom0 class=AdminVM state=Running uuid=00000000-0000-0000-0000-000000000000\n"))
	f.Add([]byte("mem=0 mem_static_max=0 cputime=0 power_state=Halted"))
	f.Add([]byte("pool=varlibqubes\nsize=1\nrw=True\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		if p, err := ParseProperty("p", b); err == nil {
			if FormatProperty(p) != string(b) {
				t.Fatalf("property %q re-encodes as %q", b, FormatProperty(p))
			}
		}
		if ps, err := ParseGetAll(b); err == nil {
			for _, p := range ps {
				line := p.Name + " " + FormatProperty(p)
				p.Value = EscapeValue(p.Value)
				if again, err := ParseGetAll([]byte(p.Name + " " + FormatProperty(p))); err != nil || len(again) != 1 {
					t.Fatalf("GetAll line %q does not re-parse: %v", line, err)
				}
			}
		}
		if qs, err := ParseVMList(b); err == nil {
			for _, q := range qs {
				if q.Name == "" || q.Class == "" || q.State == "" {
					t.Fatalf("incomplete qube %+v", q)
				}
			}
		}
		ParseDefault("p", b)
		ParseCurrentState(b)
		ParseVolumeInfo(b)
	})
}
