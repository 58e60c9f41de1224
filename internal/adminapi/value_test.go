package adminapi

import (
	"errors"
	"testing"

	"github.com/qube-desktop/qube-desktop/internal/qube"
)

func TestTypedValues(t *testing.T) {
	if b, err := ParseBool(qube.Property{Name: "debug", Value: "True"}); err != nil || !b {
		t.Errorf("ParseBool True = %v, %v", b, err)
	}
	if _, err := ParseBool(qube.Property{Name: "debug", Value: "yes"}); err == nil {
		t.Error("ParseBool(yes) accepted: qubesd only sends True/False")
	}
	if v, err := ParseInt(qube.Property{Name: "memory", Value: "-1"}); err != nil || v != -1 {
		t.Errorf("ParseInt = %v, %v", v, err)
	}
	if _, err := ParseInt(qube.Property{Name: "stubdom_mem", Value: ""}); err == nil {
		t.Error("ParseInt of an unset value accepted")
	}
	ps, err := ParseGetAll([]byte("kernelopts default=False type=str a\\nb\\\\c\nnetvm default=True type=vm \n"))
	if err != nil || len(ps) != 2 || ps[0].Value != "a\nb\\c" || ps[1] != (qube.Property{Name: "netvm", Type: qube.TypeVM, Default: true}) {
		t.Errorf("ParseGetAll = %+v, %v", ps, err)
	}
	if EscapeValue("a\nb\\c") != `a\nb\\c` {
		t.Error("EscapeValue")
	}
	for _, bad := range []string{"x default=True type=str a\\q", "x default=Maybe type=str a", "x default=True a", "x"} {
		if _, err := ParseGetAll([]byte(bad)); !errors.Is(err, ErrMalformed) {
			t.Errorf("ParseGetAll(%q) = %v", bad, err)
		}
	}
	if _, ok, err := ParseDefault("kernel", nil); ok || err != nil {
		t.Error("an empty GetDefault answer means no default")
	}
	qs, err := ParseVMList([]byte("work class=AppVM state=Running\n"))
	if err != nil || qs[0].UUID != "" || qs[0].State != qube.Running {
		t.Errorf("R4.2-style vm.List: %+v, %v", qs, err)
	}
}
