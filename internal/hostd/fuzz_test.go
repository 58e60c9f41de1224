package hostd

import (
	"bytes"
	"context"
	"io"
	"log"
	"path/filepath"
	"testing"

	"github.com/qube-desktop/qube-desktop/internal/adminapi"
	"github.com/qube-desktop/qube-desktop/internal/store"
)

// FuzzRequest feeds arbitrary request bytes through parsing and dispatch,
// as a connection would: the answer must be nothing, a success, or a
// well-formed exception, and the daemon must not panic.
func FuzzRequest(f *testing.F) {
	for _, s := range []string{
		"admin.vm.List+ dom0 name dom0\x00",
		"admin.vm.List+ dom0 keyword adminvm\x00",
		"admin.vm.Create.AppVM+tpl dom0 name dom0\x00name=w label=red",
		"admin.vm.Create.TemplateVM+ dom0 name dom0\x00name=tpl label=black",
		"admin.vm.property.Set+memory dom0 name tpl\x00-5",
		"admin.vm.property.GetAll+ dom0 name tpl\x00",
		"admin.vm.feature.Set+x dom0 name tpl\x00\xff\x00",
		"admin.label.Create+pink dom0 name dom0\x000xff69b4",
		"admin.vm.CreateDisposable+ dom0 name uuid:00000000-0000-0000-0000-000000000000\x00uuid",
		"admin.vm.Remove+ dom0 name tpl\x00",
		"admin.vm.device.pci.Available+ dom0 name tpl\x00",
		"admin.vm.Shutdown+force+wait dom0 name tpl\x00",
		"admin.vm.notes.Set+ dom0 name tpl\x00\x01\x02",
	} {
		f.Add([]byte(s))
	}
	st, err := store.Open(filepath.Join(f.TempDir(), "data"))
	if err != nil {
		f.Fatal(err)
	}
	drv := failingDriver(f)
	srv := New(Config{Store: st, Driver: drv, Log: log.New(io.Discard, "", 0)})
	defer srv.Close()
	f.Fuzz(func(t *testing.T, b []byte) {
		req, err := adminapi.ParseRequest(b)
		if err != nil {
			return
		}
		if req.Method == "admin.Events" || req.Method == "admin.vm.Stats" {
			return // streams run until the client leaves
		}
		var out bytes.Buffer
		_ = srv.handle(context.Background(), req, &out)
		resp := out.Bytes()
		switch {
		case len(resp) == 0, bytes.HasPrefix(resp, []byte("0\x00")):
		case bytes.HasPrefix(resp, []byte("2\x00")):
			f := bytes.Split(resp[2:], []byte{0})
			if len(f) != 4 || len(f[0]) == 0 || len(f[3]) != 0 {
				t.Fatalf("malformed exception %q", resp)
			}
		default:
			t.Fatalf("malformed answer %q to %q", resp, b)
		}
	})
}
