package sandbox

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"strconv"
)

// The host and the in-qube init talk over a socketpair the init inherits
// as fd 3 (its control socket). For every program to start, the host makes
// a fresh socketpair and sends one end over the control socket with
// SCM_RIGHTS, followed by the program's stdin, stdout, stderr and extra
// files. On that per-program connection the host writes one JSON runRequest
// line; the init answers "started <pid>\n" or "error <text>\n" and, when the
// program ends, "exit <code>\n". No path in the qube's file system is ever
// opened by the host, so the qube cannot redirect the host anywhere.

// runRequest is what the host asks the init to start.
type runRequest struct {
	Argv   []string `json:"argv"`
	Env    []string `json:"env"`
	Dir    string   `json:"dir,omitempty"`
	NFiles int      `json:"nfiles"` // files after the connection: stdin, stdout, stderr, extras
}

// replyKind is what a reply line says.
type replyKind int

const (
	replyStarted replyKind = iota + 1
	replyError
	replyExit
)

// untrustedReply is a reply line exactly as the qube sent it.
type untrustedReply struct{ line []byte }

// reply is a validated reply.
type reply struct {
	kind replyKind
	n    int    // pid for started, exit code for exit
	text string // for error: printable ASCII only
}

// readUntrustedReply reads one line of at most maxReplyLine bytes.
func readUntrustedReply(r *bufio.Reader) (untrustedReply, error) {
	var line []byte
	for {
		b, err := r.ReadByte()
		if err != nil {
			if err == io.EOF && len(line) > 0 {
				err = io.ErrUnexpectedEOF
			}
			return untrustedReply{}, err
		}
		line = append(line, b)
		if b == '\n' {
			return untrustedReply{line: line}, nil
		}
		if len(line) >= maxReplyLine {
			return untrustedReply{}, fmt.Errorf("qube init reply longer than %d bytes", maxReplyLine)
		}
	}
}

// validate is the one place reply bytes from a qube become trusted values.
func (u untrustedReply) validate() (reply, error) {
	line, ok := bytes.CutSuffix(u.line, []byte("\n"))
	if !ok || len(u.line) > maxReplyLine {
		return reply{}, errors.New("qube init reply is not one bounded line")
	}
	word, rest, _ := bytes.Cut(line, []byte(" "))
	switch string(word) {
	case "started", "exit":
		n, err := strconv.Atoi(string(rest))
		if err != nil || len(rest) > 10 || rest[0] == '+' || rest[0] == '-' {
			return reply{}, fmt.Errorf("qube init sent a bad number %q", rest)
		}
		if word[0] == 's' {
			if n < 1 || n > 1<<22 {
				return reply{}, fmt.Errorf("qube init sent pid %d out of range", n)
			}
			return reply{kind: replyStarted, n: n}, nil
		}
		if n > 255+128 {
			return reply{}, fmt.Errorf("qube init sent exit code %d out of range", n)
		}
		return reply{kind: replyExit, n: n}, nil
	case "error":
		if len(rest) > maxErrorText {
			return reply{}, errors.New("qube init error text too long")
		}
		for _, c := range rest {
			if c < 0x20 || c > 0x7e {
				return reply{}, errors.New("qube init error text is not printable ASCII")
			}
		}
		return reply{kind: replyError, text: string(rest)}, nil
	}
	return reply{}, fmt.Errorf("qube init sent an unknown reply %.20q", word)
}
