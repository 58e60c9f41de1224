package adminapi

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/qube-desktop/qube-desktop/internal/qube"
)

// ParseProperty parses a property.Get answer: "default=True type=vm work".
// The value is everything after the second space and may be empty (None).
func ParseProperty(name string, body []byte) (qube.Property, error) {
	p, err := parsePropertyText(string(body))
	if err != nil {
		return qube.Property{}, fmt.Errorf("property %s: %w", name, err)
	}
	p.Name = name
	return p, nil
}

func parsePropertyText(s string) (qube.Property, error) {
	var p qube.Property
	def, rest, ok := strings.Cut(s, " ")
	switch {
	case !ok:
		return p, fmt.Errorf("%w: %q has no type", ErrMalformed, s)
	case def == "default=True":
		p.Default = true
	case def == "default=False":
	default:
		return p, fmt.Errorf("%w: %q does not start with default=True or default=False", ErrMalformed, s)
	}
	return parseTypedValue(p, rest)
}

// parseTypedValue parses "type=T value" into p.
func parseTypedValue(p qube.Property, s string) (qube.Property, error) {
	typ, val, ok := strings.Cut(s, " ")
	if !ok || !strings.HasPrefix(typ, "type=") || len(typ) == len("type=") {
		return p, fmt.Errorf("%w: %q is not \"type=T value\"", ErrMalformed, s)
	}
	p.Type = qube.PropType(typ[len("type="):])
	p.Value = val
	return p, nil
}

// ParseDefault parses a property.GetDefault answer: "type=int 400". An empty
// body means the property has no default.
func ParseDefault(name string, body []byte) (qube.Property, bool, error) {
	if len(body) == 0 {
		return qube.Property{}, false, nil
	}
	p, err := parseTypedValue(qube.Property{Name: name, Default: true}, string(body))
	if err != nil {
		return qube.Property{}, false, fmt.Errorf("default of %s: %w", name, err)
	}
	return p, true, nil
}

// ParseGetAll parses a property.GetAll answer: one "name default=… type=…
// value" line per property, with backslash and newline escaped in values.
func ParseGetAll(body []byte) ([]qube.Property, error) {
	lines := splitLines(string(body))
	props := make([]qube.Property, 0, len(lines))
	for _, line := range lines {
		name, rest, ok := strings.Cut(line, " ")
		if !ok || name == "" {
			return nil, fmt.Errorf("%w: GetAll line %q has no name", ErrMalformed, line)
		}
		p, err := parsePropertyText(rest)
		if err != nil {
			return nil, fmt.Errorf("property %s: %w", name, err)
		}
		if p.Value, err = unescapeValue(p.Value); err != nil {
			return nil, fmt.Errorf("property %s: %w", name, err)
		}
		p.Name = name
		props = append(props, p)
	}
	return props, nil
}

// unescapeValue undoes GetAll's escaping of '\' as "\\" and newline as "\n".
func unescapeValue(s string) (string, error) {
	if strings.IndexByte(s, '\\') < 0 {
		return s, nil
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] != '\\' {
			b.WriteByte(s[i])
			continue
		}
		i++
		switch {
		case i == len(s):
			return "", fmt.Errorf("%w: value ends with a lone backslash", ErrMalformed)
		case s[i] == '\\':
			b.WriteByte('\\')
		case s[i] == 'n':
			b.WriteByte('\n')
		default:
			return "", fmt.Errorf("%w: unknown escape \\%c in value", ErrMalformed, s[i])
		}
	}
	return b.String(), nil
}

// EscapeValue is the inverse of GetAll's escaping, for servers.
func EscapeValue(s string) string {
	return strings.NewReplacer(`\`, `\\`, "\n", `\n`).Replace(s)
}

// FormatProperty is the answer to property.Get for p, for servers.
func FormatProperty(p qube.Property) string {
	return fmt.Sprintf("default=%s type=%s %s", pyBool(p.Default), p.Type, p.Value)
}

func pyBool(b bool) string {
	if b {
		return "True"
	}
	return "False"
}

// ParseBool parses a bool property value as qubesd writes it (True/False).
func ParseBool(p qube.Property) (bool, error) {
	switch p.Value {
	case "True":
		return true, nil
	case "False":
		return false, nil
	}
	return false, fmt.Errorf("property %s: %q is not True or False", p.Name, p.Value)
}

// ParseInt parses an int property value; an unset one is an error.
func ParseInt(p qube.Property) (int64, error) {
	v, err := strconv.ParseInt(p.Value, 10, 64)
	if err != nil {
		return 0, fmt.Errorf("property %s: %q is not an integer", p.Name, p.Value)
	}
	return v, nil
}

// splitLines splits newline-terminated lines; an empty body has none.
func splitLines(s string) []string {
	s = strings.TrimSuffix(s, "\n")
	if s == "" {
		return nil
	}
	return strings.Split(s, "\n")
}

// ParseVMList parses admin.vm.List: "name class=C state=S uuid=U" per line.
// Unknown keys are ignored and uuid= may be absent (before R4.3).
func ParseVMList(body []byte) ([]qube.Qube, error) {
	lines := splitLines(string(body))
	qs := make([]qube.Qube, 0, len(lines))
	for _, line := range lines {
		f := strings.Split(line, " ")
		q := qube.Qube{Name: f[0]}
		if q.Name == "" {
			return nil, fmt.Errorf("%w: vm.List line %q has no name", ErrMalformed, line)
		}
		for _, kv := range f[1:] {
			k, v, ok := strings.Cut(kv, "=")
			if !ok {
				return nil, fmt.Errorf("%w: vm.List line %q: %q is not key=value", ErrMalformed, line, kv)
			}
			switch k {
			case "class":
				q.Class = qube.Class(v)
			case "state":
				q.State = qube.State(v)
			case "uuid":
				q.UUID = v
			}
		}
		if q.Class == "" || q.State == "" {
			return nil, fmt.Errorf("%w: vm.List line %q lacks class or state", ErrMalformed, line)
		}
		qs = append(qs, q)
	}
	return qs, nil
}

// FormatVMList is the admin.vm.List answer for qs, for servers.
func FormatVMList(qs []qube.Qube) []byte {
	var b strings.Builder
	for _, q := range qs {
		fmt.Fprintf(&b, "%s class=%s state=%s", q.Name, q.Class, q.State)
		if q.UUID != "" {
			b.WriteString(" uuid=" + q.UUID)
		}
		b.WriteByte('\n')
	}
	return []byte(b.String())
}

// KV is an ordered list of key=value pairs.
type KV []Arg

// Get returns the value of a key.
func (kv KV) Get(key string) (string, bool) {
	for _, a := range kv {
		if a.Key == key {
			return a.Value, true
		}
	}
	return "", false
}

// ParseKV parses key=value pairs separated by sep ('\n' for volume and pool
// info, ' ' for CurrentState).
func ParseKV(body []byte, sep string) (KV, error) {
	s := strings.TrimSuffix(string(body), sep)
	if s == "" {
		return nil, nil
	}
	var kv KV
	for _, f := range strings.Split(s, sep) {
		k, v, ok := strings.Cut(f, "=")
		if !ok || k == "" {
			return nil, fmt.Errorf("%w: %q is not key=value", ErrMalformed, f)
		}
		kv = append(kv, Arg{Key: k, Value: v})
	}
	return kv, nil
}

// VolumeInfo is admin.vm.volume.Info. Raw keeps every key in wire order.
type VolumeInfo struct {
	Pool, VID, Source, Path string
	Size, Usage             int64
	RW, SaveOnStop          bool
	SnapOnStart, Ephemeral  bool
	IsOutdated              bool
	RevisionsToKeep         int64
	Raw                     KV
}

// ParseVolumeInfo parses admin.vm.volume.Info; unknown keys land in Raw only.
func ParseVolumeInfo(body []byte) (VolumeInfo, error) {
	kv, err := ParseKV(body, "\n")
	if err != nil {
		return VolumeInfo{}, err
	}
	v := VolumeInfo{Raw: kv}
	for _, a := range kv {
		switch a.Key {
		case "pool":
			v.Pool = a.Value
		case "vid":
			v.VID = a.Value
		case "source":
			v.Source = a.Value
		case "path":
			v.Path = a.Value
		case "size":
			err = parseInt(a, &v.Size)
		case "usage":
			err = parseInt(a, &v.Usage)
		case "revisions_to_keep":
			err = parseInt(a, &v.RevisionsToKeep)
		case "rw":
			err = parseBool(a, &v.RW)
		case "save_on_stop":
			err = parseBool(a, &v.SaveOnStop)
		case "snap_on_start":
			err = parseBool(a, &v.SnapOnStart)
		case "ephemeral":
			err = parseBool(a, &v.Ephemeral)
		case "is_outdated":
			err = parseBool(a, &v.IsOutdated)
		}
		if err != nil {
			return VolumeInfo{}, err
		}
	}
	return v, nil
}

func parseInt(a Arg, dst *int64) error {
	v, err := strconv.ParseInt(a.Value, 10, 64)
	if err != nil {
		return fmt.Errorf("%w: %s=%q is not an integer", ErrMalformed, a.Key, a.Value)
	}
	*dst = v
	return nil
}

func parseBool(a Arg, dst *bool) error {
	switch a.Value {
	case "True":
		*dst = true
	case "False":
		*dst = false
	default:
		return fmt.Errorf("%w: %s=%q is not True or False", ErrMalformed, a.Key, a.Value)
	}
	return nil
}

// CurrentState is admin.vm.CurrentState.
type CurrentState struct {
	MemKiB, MemStaticMaxKiB int64
	CPUTimeNS               int64
	PowerState              qube.State
}

// ParseCurrentState parses "mem=0 mem_static_max=0 cputime=0 power_state=Halted".
func ParseCurrentState(body []byte) (CurrentState, error) {
	kv, err := ParseKV(body, " ")
	if err != nil {
		return CurrentState{}, err
	}
	var cs CurrentState
	for _, a := range kv {
		switch a.Key {
		case "mem":
			err = parseInt(a, &cs.MemKiB)
		case "mem_static_max":
			err = parseInt(a, &cs.MemStaticMaxKiB)
		case "cputime":
			err = parseInt(a, &cs.CPUTimeNS)
		case "power_state":
			cs.PowerState = qube.State(a.Value)
		}
		if err != nil {
			return CurrentState{}, err
		}
	}
	if cs.PowerState == "" {
		return CurrentState{}, fmt.Errorf("%w: CurrentState %q has no power_state", ErrMalformed, body)
	}
	return cs, nil
}

// Stats is one vm-stats event. Fields differ between Qubes releases, so
// missing ones stay zero and every key is kept in Raw.
type Stats struct {
	Qube      string
	MemoryKiB int64
	CPUTimeMS int64
	CPUUsage  int64 // percent
	Raw       []Arg
}

// ParseStats decodes a vm-stats event.
func ParseStats(ev Event) (Stats, error) {
	if ev.Name != EventVMStats {
		return Stats{}, fmt.Errorf("%w: %s is not a vm-stats event", ErrMalformed, ev.Name)
	}
	if ev.Subject == "" {
		return Stats{}, fmt.Errorf("%w: vm-stats without a qube", ErrMalformed)
	}
	st := Stats{Qube: ev.Subject, Raw: ev.Args}
	for _, a := range ev.Args {
		var err error
		switch a.Key {
		case "memory_kb":
			err = parseInt(a, &st.MemoryKiB)
		case "cpu_time":
			err = parseInt(a, &st.CPUTimeMS)
		case "cpu_usage":
			err = parseInt(a, &st.CPUUsage)
		}
		if err != nil {
			return Stats{}, err
		}
	}
	return st, nil
}
