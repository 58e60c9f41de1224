package adminapitest

import (
	"bytes"
	"fmt"
	"net"
	"strings"
	"testing"

	"github.com/qube-desktop/qube-desktop/internal/adminapi"
)

// Synthetic is a qubesd stand-in with n AppVMs besides dom0, answering
// admin.vm.List and admin.vm.property.GetAll with bodies built from the
// recorded answers (010, 020 and 200), so the client does the same parsing
// work as against the real qubesd.
type Synthetic struct {
	*Server
	Names []string
}

// NewSynthetic starts a synthetic qubesd with n qubes named q0001, q0002, ….
func NewSynthetic(tb testing.TB, n int) *Synthetic {
	tb.Helper()
	recs := ByName(Load(tb))
	body := func(name string) []byte {
		b, err := adminapi.DecodeResponse(name, recs[name].Response)
		if err != nil {
			tb.Fatalf("recording %s: %v", name, err)
		}
		return b
	}
	dom0Props, workProps := body("020-admin.vm.property.GetAll-dom0"), string(body("200-admin.vm.property.GetAll-work"))
	labels := []string{"red", "orange", "yellow", "green", "gray", "blue", "purple", "black"}
	s := &Synthetic{}
	var list bytes.Buffer
	list.Write(body("010-admin.vm.List-initial"))
	props := map[string][]byte{"dom0": dom0Props}
	for i := 1; i <= n; i++ {
		name := fmt.Sprintf("q%04d", i)
		s.Names = append(s.Names, name)
		fmt.Fprintf(&list, "%s class=AppVM state=Halted uuid=%08x-0000-4000-8000-000000000000\n", name, i)
		p := strings.Replace(workProps, "name default=False type=str work\n", "name default=False type=str "+name+"\n", 1)
		p = strings.Replace(p, "label default=False type=label blue\n", "label default=False type=label "+labels[i%len(labels)]+"\n", 1)
		props[name] = []byte(p)
	}
	listBody := list.Bytes()
	s.Server = NewServer(tb, func(raw []byte, c net.Conn) {
		req, err := adminapi.ParseRequest(raw)
		if err != nil {
			return
		}
		switch {
		case req.Method == "admin.vm.List" && req.Dest == "dom0":
			adminapi.WriteOK(c, listBody)
		case req.Method == "admin.vm.property.GetAll" && props[req.Dest] != nil:
			adminapi.WriteOK(c, props[req.Dest])
		default:
			adminapi.WriteException(c, "QubesVMNotFoundError", fmt.Sprintf("No such domain: '%s'", req.Dest))
		}
	})
	return s
}
