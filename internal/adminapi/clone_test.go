package adminapi_test

import (
	"context"
	"errors"
	"net"
	"reflect"
	"strings"
	"testing"

	"github.com/qube-desktop/qube-desktop/internal/adminapi"
	"github.com/qube-desktop/qube-desktop/internal/adminapi/adminapitest"
)

// scripted answers requests by their exact bytes; the answers to reads are
// the recorded ones.
func scripted(t *testing.T, answers map[string]string) *adminapitest.Server {
	return adminapitest.NewServer(t, func(req []byte, c net.Conn) {
		a, ok := answers[string(req)]
		if !ok {
			t.Errorf("unexpected request %q", req)
			return
		}
		c.Write([]byte(a))
	})
}

func TestClone(t *testing.T) {
	recs := adminapitest.ByName(adminapitest.Load(t))
	resp := func(name string) string { return string(recs[name].Response) }
	getAll := strings.Replace(resp("200-admin.vm.property.GetAll-work"), "memory default=True type=int 400", "memory default=False type=int 800", 1)
	answers := map[string]string{
		"admin.vm.List+ dom0 name work\x00":                                                             resp("111-admin.vm.List-single"),
		"admin.vm.property.GetAll+ dom0 name work\x00":                                                  getAll,
		"admin.vm.Create.AppVM+fedora-42 dom0 name dom0\x00name=work2 label=red":                        "0\x00",
		"admin.vm.property.Set+memory dom0 name work2\x00800":                                           "0\x00",
		"admin.vm.tag.List+ dom0 name work\x00":                                                         resp("311-admin.vm.tag.List"),
		"admin.vm.tag.Set+audiovm-dom0 dom0 name work2\x00":                                             "0\x00",
		"admin.vm.tag.Set+guivm-dom0 dom0 name work2\x00":                                               "0\x00",
		"admin.vm.tag.Set+mytag dom0 name work2\x00":                                                    "0\x00",
		"admin.vm.feature.List+ dom0 name work\x00":                                                     resp("301-admin.vm.feature.List"),
		"admin.vm.feature.Get+menu-items dom0 name work\x00":                                            resp("302-admin.vm.feature.Get"),
		"admin.vm.feature.Set+menu-items dom0 name work2\x00firefox.desktop org.gnome.Terminal.desktop": "0\x00",
		"admin.vm.volume.List+ dom0 name work\x00":                                                      resp("400-admin.vm.volume.List"),
		"admin.vm.volume.Info+root dom0 name work\x00":                                                  resp("402-admin.vm.volume.Info-root"),
		"admin.vm.volume.Info+private dom0 name work\x00":                                               resp("401-admin.vm.volume.Info-private"),
		"admin.vm.volume.Info+volatile dom0 name work\x00":                                              "0\x00pool=varlibqubes\nsave_on_stop=False\n",
		"admin.vm.volume.Info+kernel dom0 name work\x00":                                                "0\x00pool=linux-kernel\nsave_on_stop=False\n",
		"admin.vm.volume.CloneFrom+private dom0 name work\x00":                                          "0\x000123456789abcdef0123456789abcdef",
		"admin.vm.volume.CloneTo+private dom0 name work2\x000123456789abcdef0123456789abcdef":           "0\x00",
	}
	srv := scripted(t, answers)
	c := adminapi.New(adminapi.UnixTransport{Path: srv.Path})
	if err := c.Clone(context.Background(), "work", "work2", adminapi.CloneOptions{Label: "red"}); err != nil {
		t.Fatal(err)
	}
	if n := len(srv.Requests()); n != len(answers) {
		t.Errorf("%d requests, want each of the %d once", n, len(answers))
	}

	// A failing step removes the new qube again.
	answers["admin.vm.volume.CloneTo+private dom0 name work2\x000123456789abcdef0123456789abcdef"] = "2\x00StoragePoolException\x00\x00disk full\x00"
	answers["admin.vm.Remove+ dom0 name work2\x00"] = "0\x00"
	srv = scripted(t, answers)
	c = adminapi.New(adminapi.UnixTransport{Path: srv.Path})
	err := c.Clone(context.Background(), "work", "work2", adminapi.CloneOptions{Label: "red"})
	if !errors.Is(err, adminapi.ErrQubes) || !strings.Contains(err.Error(), "copy volume private") {
		t.Errorf("Clone = %v", err)
	}
	reqs := srv.Requests()
	if last := string(reqs[len(reqs)-1]); !reflect.DeepEqual(last, "admin.vm.Remove+ dom0 name work2\x00") {
		t.Errorf("last request %q, want the Remove", last)
	}
}
