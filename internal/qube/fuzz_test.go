package qube

import (
	"regexp"
	"strings"
	"testing"
)

// The rule qubesd's checks add up to, written independently.
var validName = regexp.MustCompile(`\A[a-zA-Z][a-zA-Z0-9_.-]{0,30}\z`)

func FuzzValidateName(f *testing.F) {
	for _, s := range []string{"work", "0bad", "sys-net-dm", "none", "Domain-0", "wörk", "a b", strings.Repeat("x", 32), ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		err := ValidateName(s)
		want := validName.MatchString(s) && s != "none" && s != "default" && s != "Domain-0" && !strings.HasSuffix(s, "-dm")
		if (err == nil) != want {
			t.Fatalf("ValidateName(%q) = %v, want valid=%v", s, err, want)
		}
	})
}
