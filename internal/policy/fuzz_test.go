package policy

import (
	"errors"
	"strings"
	"testing"
)

// FuzzParse: any bytes give rules or a SyntaxError naming a real line,
// never a panic; every accepted rule prints back to a line that parses to
// the same rule.
func FuzzParse(f *testing.F) {
	f.Add([]byte(defaultPolicy))
	f.Add([]byte("admin.vm.List  *  work  fedora-42  allow target=dom0\n"))
	f.Add([]byte("qubes.ClipboardPaste +arg @dispvm:@tag:x @default ask default_target=@dispvm:dvm user=root\n"))
	f.Add([]byte("!include-service a + b\n!compat-4.0\n"))
	f.Fuzz(func(t *testing.T, src []byte) {
		p, err := Parse("f.policy", src)
		if err != nil {
			var se *SyntaxError
			if !errors.As(err, &se) || se.File != "f.policy" || se.Line < 0 || se.Line > strings.Count(string(src), "\n")+1 {
				t.Fatalf("error %v (%T) names no line of the input", err, err)
			}
			return
		}
		for _, r := range p.Rules {
			again, err := Parse("g.policy", []byte(r.String()+"\n"))
			if err != nil || len(again.Rules) != 1 || again.Rules[0].String() != r.String() {
				t.Fatalf("rule %q does not round-trip: %v", r.String(), err)
			}
		}
		p.AllowClipboardPaste("work", "personal", qubes)
	})
}
