package qube

import (
	"errors"
	"strings"
	"testing"
)

func TestValidateName(t *testing.T) {
	ok := []string{"work", "sys-net", "a", "fedora-42", "Work_2.b", strings.Repeat("a", 31), "dm", "a-dmz"}
	for _, n := range ok {
		if err := ValidateName(n); err != nil {
			t.Errorf("ValidateName(%q) = %v", n, err)
		}
	}
	bad := map[string]string{
		"":                      "cannot be empty",
		strings.Repeat("a", 32): "shorter than 32 characters",
		"0bad":                  "VM name cannot start with hyphen, underscore, dot or numbers",
		"-x":                    "cannot start with",
		"_x":                    "cannot start with",
		".x":                    "cannot start with",
		"a b":                   "illegal characters",
		"a/b":                   "illegal characters",
		"lost+found":            "illegal characters",
		"wörk":                  "illegal characters",
		"none":                  "'none' nor 'default'",
		"default":               "'none' nor 'default'",
		"Domain-0":              "Domain-0",
		"sys-net-dm":            "cannot end with -dm",
	}
	for n, want := range bad {
		err := ValidateName(n)
		var ne *NameError
		if !errors.As(err, &ne) || !strings.Contains(err.Error(), want) || ne.Hint == "" {
			t.Errorf("ValidateName(%q) = %v, want %q with a hint", n, err, want)
		}
	}
	if err := ValidateName("wörk"); !strings.Contains(err.Error(), `'ö'`) {
		t.Errorf("the bad character is not named: %v", err)
	}
}

func TestPalette(t *testing.T) {
	want := map[string]uint32{"red": 0xcc0000, "orange": 0xf57900, "yellow": 0xedd400, "green": 0x73d216,
		"gray": 0x555555, "blue": 0x3465a4, "purple": 0x75507b, "black": 0x000000}
	if len(Labels) != 8 {
		t.Fatalf("%d labels", len(Labels))
	}
	for i, l := range Labels {
		if l.Index != i+1 || want[l.Name] != l.RGB {
			t.Errorf("label %+v", l)
		}
	}
	blue, _ := LabelByName("blue")
	if c := blue.Color(); c.R != 0x34 || c.G != 0x65 || c.B != 0xa4 || c.A != 0xff || blue.Hex() != "0x3465a4" {
		t.Errorf("blue = %v %s", c, blue.Hex())
	}
	for s, want := range map[string]uint32{"0xcc0000": 0xcc0000, "0xFF69B4": 0xff69b4} {
		if v, err := ParseRGB(s); err != nil || v != want {
			t.Errorf("ParseRGB(%q) = %x, %v", s, v, err)
		}
	}
	for _, s := range []string{"", "cc0000", "0xcc00", "0xgg0000", "0xcc00000"} {
		if _, err := ParseRGB(s); err == nil {
			t.Errorf("ParseRGB(%q) accepted", s)
		}
	}
}

func TestStateAndClass(t *testing.T) {
	for s, active := range map[State]bool{Running: true, Paused: true, Transient: true, Halted: false, Crashed: false, NA: false} {
		if s.IsActive() != active {
			t.Errorf("%s.IsActive() = %v", s, !active)
		}
	}
	if !AppVM.NeedsTemplate() || TemplateVM.NeedsTemplate() || !RemoteVM.Known() || Class("Foo").Known() {
		t.Error("class predicates")
	}
}
