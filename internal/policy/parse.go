package policy

import (
	_ "embed"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
)

// DefaultFile is the name of Qubes' GUI daemon policy file, whose rules are
// built in.
const DefaultFile = "90-default-gui-daemon.policy"

//go:embed 90-default-gui-daemon.policy
var defaultPolicy []byte

// Limits of what a policy may be.
const (
	maxFileSize     = 1 << 20
	maxIncludeDepth = 16
)

// Policy is a parsed policy: its rules in evaluation order.
type Policy struct{ Rules []*Rule }

// Default is the built-in policy: the rules of Qubes' DefaultFile.
func Default() *Policy {
	p, err := Parse("(built-in) "+DefaultFile, defaultPolicy)
	if err != nil {
		panic(err) // the embedded file is tested
	}
	return p
}

// Parse reads one policy file. It has no directory to resolve !include
// lines against, so it refuses them; use Load for a policy directory.
func Parse(name string, src []byte) (*Policy, error) {
	var ps parser
	if err := ps.file(name, src, false); err != nil {
		return nil, err
	}
	return &Policy{Rules: ps.rules}, nil
}

// Load reads a policy directory as qrexec does: every *.policy file in
// lexical order of names, skipping names that start with a dot. Qubes'
// DefaultFile is built in: unless the directory has a file of that name, its
// rules are read at that place in the order. A missing directory holds only
// the built-in rules. Relative !include paths are relative to dir.
func Load(dir string) (*Policy, error) {
	ps := parser{dir: dir}
	names, err := policyFiles(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return Default(), nil
	}
	if err != nil {
		return nil, err
	}
	if !slices.Contains(names, DefaultFile) {
		names = append(names, DefaultFile)
		slices.Sort(names)
	}
	for _, n := range names {
		path := filepath.Join(dir, n)
		src, err := readPolicyFile(path)
		if n == DefaultFile && errors.Is(err, fs.ErrNotExist) {
			if err := ps.file("(built-in) "+DefaultFile, defaultPolicy, false); err != nil {
				return nil, err
			}
			continue
		}
		if err != nil {
			return nil, err
		}
		if err := ps.file(path, src, true); err != nil {
			return nil, err
		}
	}
	return &Policy{Rules: ps.rules}, nil
}

// policyFiles lists the policy files of dir, sorted. A file name with a
// character qrexec does not allow makes the whole directory invalid, as in
// qrexec (which then denies everything).
func policyFiles(dir string) ([]string, error) {
	ents, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	var names []string
	for _, e := range ents {
		n := e.Name()
		if strings.HasPrefix(n, ".") || !strings.HasSuffix(n, ".policy") {
			continue
		}
		if fi, err := os.Stat(filepath.Join(dir, n)); err != nil || !fi.Mode().IsRegular() {
			continue
		}
		for _, c := range n {
			if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '_' || c == '.' || c == '-') {
				return nil, fmt.Errorf("policy file %s: invalid name (use only a-z, 0-9, '_', '.' and '-')", filepath.Join(dir, n))
			}
		}
		names = append(names, n)
	}
	slices.Sort(names)
	return names, nil
}

func readPolicyFile(path string) ([]byte, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return nil, err
	}
	if fi.Size() > maxFileSize {
		return nil, fmt.Errorf("policy file %s is larger than %d bytes", path, maxFileSize)
	}
	return os.ReadFile(path)
}

type parser struct {
	dir   string // base of relative includes
	depth int
	rules []*Rule
}

// file parses one file in the v5 format; includes are followed only when
// the file came from a directory.
func (ps *parser) file(name string, src []byte, includes bool) error {
	if len(src) > maxFileSize {
		return &SyntaxError{File: name, Line: 0, Msg: fmt.Sprintf("file is larger than %d bytes", maxFileSize)}
	}
	for i, line := range strings.Split(string(src), "\n") {
		n := i + 1
		line = strings.TrimSpace(line)
		if line == "" || line[0] == '#' {
			continue
		}
		fail := func(format string, a ...any) error {
			return &SyntaxError{File: name, Line: n, Msg: fmt.Sprintf(format, a...)}
		}
		if line[0] == '!' {
			if err := ps.directive(strings.Fields(line), includes, fail); err != nil {
				return err
			}
			continue
		}
		f := strings.Fields(line)
		if len(f) < 5 {
			return fail("wrong number of fields: want service argument source target action [params]")
		}
		r, err := newRule(f[0], f[1], f[2], f[3], f[4], f[5:])
		if err != nil {
			return fail("%v", err)
		}
		r.File, r.Line = name, n
		ps.rules = append(ps.rules, r)
	}
	return nil
}

func (ps *parser) directive(f []string, includes bool, fail func(string, ...any) error) error {
	switch f[0] {
	case "!compat-4.0":
		// Pulls in Qubes 4.0 policy files, which this desktop never has.
		return nil
	case "!include", "!include-dir", "!include-service":
	default:
		return fail("unknown directive %s", f[0])
	}
	want := 2
	if f[0] == "!include-service" {
		want = 4
	}
	if len(f) != want {
		return fail("%s takes %d parameter(s)", f[0], want-1)
	}
	if !includes {
		return fail("%s outside a policy directory", f[0])
	}
	if ps.depth >= maxIncludeDepth {
		return fail("includes nested more than %d deep (do they include each other?)", maxIncludeDepth)
	}
	path := f[len(f)-1]
	if !filepath.IsAbs(path) {
		path = filepath.Join(ps.dir, path)
	}
	ps.depth++
	defer func() { ps.depth-- }()
	switch f[0] {
	case "!include":
		src, err := readPolicyFile(path)
		if err != nil {
			return fail("%v", err)
		}
		return ps.file(path, src, true)
	case "!include-dir":
		names, err := policyFiles(path)
		if err != nil {
			return fail("%v", err)
		}
		for _, n := range names {
			p := filepath.Join(path, n)
			src, err := readPolicyFile(p)
			if err != nil {
				return fail("%v", err)
			}
			if err := ps.file(p, src, true); err != nil {
				return err
			}
		}
		return nil
	}
	src, err := readPolicyFile(path)
	if err != nil {
		return fail("%v", err)
	}
	return ps.serviceFile(path, f[1], f[2], src, fail)
}

// serviceFile reads a file in the old format of !include-service: each
// line "source target action [params]", params separated by commas or
// spaces, for one service and argument.
func (ps *parser) serviceFile(name, service, argument string, src []byte, outer func(string, ...any) error) error {
	if _, _, err := checkServiceArgument(service, argument); err != nil {
		return outer("%v", err)
	}
	for i, line := range strings.Split(string(src), "\n") {
		n := i + 1
		line = strings.TrimSpace(line)
		if line == "" || line[0] == '#' {
			continue
		}
		f := strings.Fields(line)
		if len(f) < 3 {
			return &SyntaxError{File: name, Line: n, Msg: "wrong number of fields: want source target action [params]"}
		}
		var params []string
		for _, p := range f[3:] {
			params = append(params, strings.Split(p, ",")...)
		}
		r, err := newRule(service, argument, f[0], f[1], f[2], params)
		if err != nil {
			return &SyntaxError{File: name, Line: n, Msg: err.Error()}
		}
		r.File, r.Line = name, n
		ps.rules = append(ps.rules, r)
	}
	return nil
}
