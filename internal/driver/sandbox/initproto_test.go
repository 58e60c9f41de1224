package sandbox

import (
	"bufio"
	"bytes"
	"strings"
	"testing"
)

func parseReply(b []byte) (reply, error) {
	u, err := readUntrustedReply(bufio.NewReader(bytes.NewReader(b)))
	if err != nil {
		return reply{}, err
	}
	return u.validate()
}

func TestReplyValidation(t *testing.T) {
	good := map[string]reply{
		"started 42\n":         {kind: replyStarted, n: 42},
		"exit 0\n":             {kind: replyExit, n: 0},
		"exit 137\n":           {kind: replyExit, n: 137},
		"error no such file\n": {kind: replyError, text: "no such file"},
	}
	for in, want := range good {
		got, err := parseReply([]byte(in))
		if err != nil || got != want {
			t.Errorf("%q: got %+v, %v; want %+v", in, got, err, want)
		}
	}
	bad := []string{"", "started\n", "started 0\n", "started -1\n", "started +5\n", "exit 99999\n",
		"exit 1", "hello 1\n", "error \x1b[31m\n", "error " + strings.Repeat("x", 300) + "\n",
		"started 99999999999\n"}
	for _, in := range bad {
		if r, err := parseReply([]byte(in)); err == nil {
			t.Errorf("%q accepted as %+v", in, r)
		}
	}
}

func FuzzInitReply(f *testing.F) {
	for _, s := range []string{"started 42\n", "exit 0\n", "error x\n", "exit 1", "started 0\n"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		r, err := parseReply(b)
		if err != nil {
			return
		}
		switch r.kind {
		case replyStarted:
			if r.n < 1 {
				t.Fatalf("pid %d accepted", r.n)
			}
		case replyExit:
			if r.n < 0 || r.n > 383 {
				t.Fatalf("exit %d accepted", r.n)
			}
		case replyError:
			if len(r.text) > maxErrorText {
				t.Fatal("long text accepted")
			}
		default:
			t.Fatalf("kind %d", r.kind)
		}
	})
}
