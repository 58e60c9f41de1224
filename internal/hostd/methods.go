package hostd

import (
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/qube-desktop/qube-desktop/internal/qube"
	"github.com/qube-desktop/qube-desktop/internal/store"
)

func lines(items []string) []byte {
	var b strings.Builder
	for _, it := range items {
		b.WriteString(it)
		b.WriteByte('\n')
	}
	return []byte(b.String())
}

func vmclassList(*call) ([]byte, error) {
	names := make([]string, len(qube.Classes))
	for i, c := range qube.Classes {
		names[i] = string(c)
	}
	return lines(names), nil
}

// ---- labels

func labelList(c *call) ([]byte, error) {
	var names []string
	for _, l := range c.v.c.Labels {
		names = append(names, l.Name)
	}
	return lines(names), nil
}

func (c *call) label() (store.Label, error) {
	l, ok := c.v.c.Label(c.req.Arg)
	if !ok {
		return l, excf("QubesLabelNotFoundError", "Label does not exist: %s", c.req.Arg)
	}
	return l, nil
}

func labelGet(c *call) ([]byte, error) {
	l, err := c.label()
	return []byte(l.Color), err
}

func labelIndex(c *call) ([]byte, error) {
	l, err := c.label()
	return []byte(strconv.Itoa(l.Index)), err
}

var labelNameRe = regexp.MustCompile(`^[a-zA-Z][a-zA-Z0-9_-]{0,30}$`)

func labelCreate(c *call) ([]byte, error) {
	name := c.req.Arg
	if !labelNameRe.MatchString(name) {
		return nil, excf("QubesValueError", "Invalid label name %s", pyRepr(name))
	}
	rgb, err := qube.ParseRGB(string(c.req.Payload))
	if err != nil {
		return nil, excf("QubesValueError", "Invalid colour %s, want 0xRRGGBB", pyRepr(string(c.req.Payload)))
	}
	return nil, c.s.st.Update(func(col *store.Collection) error {
		idx := 0
		for _, l := range col.Labels {
			if l.Name == name {
				return excf("QubesLabelInUseError", "Label is still in use: %s", pyRepr(name))
			}
			idx = max(idx, l.Index)
		}
		col.Labels = append(col.Labels, store.Label{Name: name, Color: fmt.Sprintf("0x%06x", rgb), Index: idx + 1})
		return nil
	})
}

func labelRemove(c *call) ([]byte, error) {
	l, err := c.label()
	if err != nil {
		return nil, err
	}
	if l.Index <= len(store.DefaultLabels()) {
		return nil, excf("ProtocolError", "Can only remove custom labels")
	}
	return nil, c.s.st.Update(func(col *store.Collection) error {
		for _, q := range col.Qubes {
			if q.Props["label"] == l.Name {
				return excf("QubesLabelInUseError", "Label is still in use: %s", pyRepr(l.Name))
			}
		}
		col.Labels = slices.DeleteFunc(col.Labels, func(x store.Label) bool { return x.Name == l.Name })
		return nil
	})
}

// ---- properties, global (dest dom0, admin.property.*) or of a qube

func (c *call) global() bool { return strings.HasPrefix(c.req.Method, "admin.property.") }

func (c *call) props() []*propDef {
	if c.global() {
		return globalProps
	}
	return vmProps(c.dest)
}

func (c *call) prop() (*propDef, error) {
	p := findProp(c.props(), c.req.Arg)
	if p == nil {
		if c.global() {
			return nil, excf("QubesNoSuchPropertyError", "Invalid property %s of %s", pyRepr(c.req.Arg), "Qubes")
		}
		return nil, excf("QubesNoSuchPropertyError", "Invalid property %s of %s", pyRepr(c.req.Arg), c.dest.Name)
	}
	return p, nil
}

// get returns value, whether it is the default, and whether any exists.
func (c *call) get(p *propDef) (val string, isDefault bool) {
	if c.global() {
		if v, ok := c.v.c.Global[p.name]; ok {
			return v, false
		}
		v, _ := p.def(c.v, nil)
		return v, true
	}
	switch p.name {
	case "name":
		return c.dest.Name, c.dest.Name == store.AdminVM
	case "qid":
		return strconv.Itoa(c.dest.QID), c.dest.Name == store.AdminVM
	case "uuid":
		return c.dest.UUID, c.dest.Name == store.AdminVM
	}
	if v, ok := c.dest.Props[p.name]; ok {
		return v, false
	}
	v, _ := p.def(c.v, c.dest)
	return v, true
}

// valueEscaper escapes for GetAll: one property per line [observed 200].
// Built once: a Replacer's tables cost more than a whole GetAll.
var valueEscaper = strings.NewReplacer(`\`, `\\`, "\n", `\n`)

func propList(c *call) ([]byte, error) {
	var names []string
	for _, p := range c.props() {
		names = append(names, p.name)
	}
	return lines(names), nil
}

func propGetAll(c *call) ([]byte, error) {
	var b strings.Builder
	for _, p := range c.props() {
		v, d := c.get(p)
		fmt.Fprintf(&b, "%s default=%s type=%s %s\n", p.name, pyBool(d), p.typ, valueEscaper.Replace(v))
	}
	return []byte(b.String()), nil
}

func propGet(c *call) ([]byte, error) {
	p, err := c.prop()
	if err != nil {
		return nil, err
	}
	v, d := c.get(p)
	return fmt.Appendf(nil, "default=%s type=%s %s", pyBool(d), p.typ, v), nil
}

func propGetDefault(c *call) ([]byte, error) {
	p, err := c.prop()
	if err != nil {
		return nil, err
	}
	var q *store.Qube
	if !c.global() {
		q = c.dest
	}
	v, ok := p.def(c.v, q)
	if !ok {
		return nil, nil
	}
	return fmt.Appendf(nil, "type=%s %s", p.typ, v), nil
}

func propHelp(c *call) ([]byte, error) {
	p, err := c.prop()
	if err != nil {
		return nil, err
	}
	return []byte(p.help), nil
}

// eventValue renders a value as qubesd's str(): None for no qube.
func eventValue(p *propDef, v string) string {
	if v == "" && p.typ == "vm" {
		return "None"
	}
	return v
}

func propSet(c *call) ([]byte, error) {
	p, err := c.prop()
	if err != nil {
		return nil, err
	}
	if p.readOnly {
		// qubesd raises a plain AttributeError and drops the connection
		// [observed 222].
		return nil, noAnswer{"property " + p.name + " is read-only"}
	}
	var q *store.Qube
	if !c.global() {
		q = c.dest
	}
	val, err := c.v.parseValue(p, q, c.req.Payload)
	if err != nil {
		return nil, err
	}
	if p.haltedOnly && q != nil && c.s.state(q.Name) != qube.Halted {
		return nil, excf("QubesVMNotHaltedError", "Cannot change %s while qube is running: %s", p.name, pyRepr(q.Name))
	}
	old, _ := c.get(p)
	subject := ""
	if q != nil {
		subject = q.Name
	}
	args := []string{"name", p.name, "newvalue", eventValue(p, val), "oldvalue", eventValue(p, old)}
	c.s.events.emit(subject, "property-pre-set:"+p.name, args...)
	err = c.s.st.Update(func(col *store.Collection) error {
		if q == nil {
			col.Global[p.name] = val
			return nil
		}
		dq := col.Qubes[q.Name]
		if dq == nil {
			return notFound(q.Name)
		}
		if dq.Props == nil {
			dq.Props = map[string]string{}
		}
		dq.Props[p.name] = val
		return nil
	})
	if err != nil {
		return nil, err
	}
	if p.name == "label" || p.name == "template_for_dispvms" {
		c.s.events.emit(subject, "property-reset:icon", "name", "icon")
	}
	c.s.events.emit(subject, "property-set:"+p.name, args...)
	return nil, nil
}

func propReset(c *call) ([]byte, error) {
	p, err := c.prop()
	if err != nil {
		return nil, err
	}
	var q *store.Qube
	if !c.global() {
		q = c.dest
	}
	if _, hasDef := p.def(c.v, q); p.readOnly || !hasDef {
		return nil, noAnswer{"property " + p.name + " has no default to reset to"}
	}
	old, _ := c.get(p)
	subject := ""
	if q != nil {
		subject = q.Name
	}
	args := []string{"name", p.name, "oldvalue", eventValue(p, old)}
	c.s.events.emit(subject, "property-pre-reset:"+p.name, args...)
	c.s.events.emit(subject, "property-pre-del:"+p.name, args...)
	err = c.s.st.Update(func(col *store.Collection) error {
		if q == nil {
			delete(col.Global, p.name)
		} else if dq := col.Qubes[q.Name]; dq != nil {
			delete(dq.Props, p.name)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	c.s.events.emit(subject, "property-reset:"+p.name, args...)
	c.s.events.emit(subject, "property-del:"+p.name, args...)
	return nil, nil
}

// ---- listing

func vmList(c *call) ([]byte, error) {
	var qs []*store.Qube
	switch {
	case c.dest.Name != store.AdminVM:
		qs = []*store.Qube{c.dest}
	case c.src.Name != store.AdminVM:
		// hostd has no qrexec policy: a qube asking for the list sees
		// only itself (qubesd filters by policy [observed 422, 423]).
		qs = []*store.Qube{c.src}
	default:
		for _, q := range c.v.c.Qubes {
			qs = append(qs, q)
		}
	}
	// dom0 first, then by name, as qubesd lists them [observed 428].
	slices.SortFunc(qs, func(a, b *store.Qube) int {
		switch {
		case a.Name == store.AdminVM:
			return -1
		case b.Name == store.AdminVM:
			return 1
		}
		return strings.Compare(a.Name, b.Name)
	})
	var b strings.Builder
	for _, q := range qs {
		fmt.Fprintf(&b, "%s class=%s state=%s uuid=%s\n", q.Name, q.Class, c.s.state(q.Name), q.UUID)
	}
	return []byte(b.String()), nil
}

// ---- features

// prohibitedFeatures may not be changed through the API [observed 606].
var prohibitedFeatures = []string{"preload-dispvm", "preload-dispvm-completed", "preload-dispvm-in-progress", "deferred-netvm-original"}

func featureList(c *call) ([]byte, error) {
	var names []string
	for k := range c.dest.Features {
		names = append(names, k)
	}
	slices.Sort(names)
	return lines(names), nil
}

func featureMissing(q, f string) error {
	return excf("QubesFeatureNotFoundError", "Feature not set for domain %s: %s", q, f)
}

func featureGet(c *call) ([]byte, error) {
	v, ok := c.dest.Features[c.req.Arg]
	if !ok {
		return nil, featureMissing(c.dest.Name, c.req.Arg)
	}
	return []byte(v), nil
}

var featureNameRe = regexp.MustCompile(`^[a-zA-Z0-9_.-]{1,128}$`)

func featureSet(c *call) ([]byte, error) {
	f := c.req.Arg
	if slices.Contains(prohibitedFeatures, f) {
		return nil, excf("PermissionDenied", "changing this feature is prohibited by qube-hostd")
	}
	if !featureNameRe.MatchString(f) {
		return nil, excf("QubesValueError", "Invalid feature name %s", pyRepr(f))
	}
	val := string(c.req.Payload)
	if !asciiPrintable(val) {
		return nil, excf("QubesValueError", "Feature value must be printable ASCII")
	}
	args := []string{"feature", f, "value", val}
	if old, ok := c.dest.Features[f]; ok {
		args = append(args, "oldvalue", old)
	}
	name := c.dest.Name
	c.s.events.emit(name, "domain-feature-pre-set:"+f, args...)
	err := c.s.st.Update(func(col *store.Collection) error {
		q := col.Qubes[name]
		if q == nil {
			return notFound(name)
		}
		if q.Features == nil {
			q.Features = map[string]string{}
		}
		q.Features[f] = val
		return nil
	})
	if err != nil {
		return nil, err
	}
	c.s.events.emit(name, "domain-feature-set:"+f, args...)
	return nil, nil
}

func featureRemove(c *call) ([]byte, error) {
	f, name := c.req.Arg, c.dest.Name
	c.s.events.emit(name, "domain-feature-pre-delete:"+f, "feature", f)
	if _, ok := c.dest.Features[f]; !ok {
		return nil, featureMissing(name, f)
	}
	err := c.s.st.Update(func(col *store.Collection) error {
		if q := col.Qubes[name]; q != nil {
			delete(q.Features, f)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	c.s.events.emit(name, "domain-feature-delete:"+f, "feature", f)
	return nil, nil
}

// featureCheck looks a feature up on the qube, then along its template
// chain, its netvm, or dom0.
func featureCheck(template, netvm, admin bool) func(*call) ([]byte, error) {
	return func(c *call) ([]byte, error) {
		f := c.req.Arg
		seen := map[string]bool{}
		for q := c.dest; q != nil && !seen[q.Name]; {
			seen[q.Name] = true
			if v, ok := q.Features[f]; ok {
				return []byte(v), nil
			}
			switch {
			case template:
				q = c.v.c.Qubes[q.Props["template"]]
			case netvm:
				n, _ := c.v.value(q, "netvm")
				q = c.v.c.Qubes[n]
			default:
				q = nil
			}
		}
		if admin {
			if v, ok := c.v.c.Qubes[store.AdminVM].Features[f]; ok {
				return []byte(v), nil
			}
		}
		return nil, featureMissing(c.dest.Name, f)
	}
}

// ---- tags

// autoTags are the tags qubesd derives from properties [observed 311].
func (c *call) tags() []string {
	t := slices.Clone(c.dest.Tags)
	if c.dest.Name != store.AdminVM {
		for _, p := range []string{"audiovm", "guivm"} {
			if v, _ := c.v.value(c.dest, p); v != "" {
				t = append(t, p+"-"+v)
			}
		}
	}
	slices.Sort(t)
	return slices.Compact(t)
}

func tagList(c *call) ([]byte, error) { return lines(c.tags()), nil }

func tagGet(c *call) ([]byte, error) {
	if slices.Contains(c.tags(), c.req.Arg) {
		return []byte("1"), nil
	}
	return []byte("0"), nil
}

var tagRe = regexp.MustCompile(`^[a-zA-Z0-9_-]{1,64}$`)

func tagSet(c *call) ([]byte, error) {
	t, name := c.req.Arg, c.dest.Name
	if !tagRe.MatchString(t) {
		return nil, excf("QubesInvalidTagError", "Invalid tag name %s", pyRepr(t))
	}
	if slices.Contains(c.dest.Tags, t) {
		return nil, nil
	}
	err := c.s.st.Update(func(col *store.Collection) error {
		if q := col.Qubes[name]; q != nil {
			q.Tags = append(q.Tags, t)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	c.s.events.emit(name, "domain-tag-add:"+t, "tag", t)
	return nil, nil
}

func tagRemove(c *call) ([]byte, error) {
	t, name := c.req.Arg, c.dest.Name
	if !slices.Contains(c.dest.Tags, t) {
		return nil, excf("QubesTagNotFoundError", "Tag not set for domain %s: %s", name, t)
	}
	err := c.s.st.Update(func(col *store.Collection) error {
		if q := col.Qubes[name]; q != nil {
			q.Tags = slices.DeleteFunc(q.Tags, func(x string) bool { return x == t })
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	c.s.events.emit(name, "domain-tag-delete:"+t, "tag", t)
	return nil, nil
}

// ---- notes

// maxNotes is qubesd's bound on qube notes.
const maxNotes = 256000

func notesGet(c *call) ([]byte, error) { return []byte(c.dest.Notes), nil }

// notesSet keeps printable text, tabs and newlines; anything else becomes
// '_', as qubesd's sanitiser does for unsafe characters.
func notesSet(c *call) ([]byte, error) {
	if len(c.req.Payload) > maxNotes {
		return nil, excf("ProtocolError", "Notes are longer than %d bytes", maxNotes)
	}
	notes := strings.Map(func(r rune) rune {
		if r == '\n' || r == '\t' || (r >= 0x20 && r != 0x7f && r != 0xfffd && !(r >= 0x80 && r < 0xa0)) {
			return r
		}
		return '_'
	}, strings.ToValidUTF8(string(c.req.Payload), "_"))
	name := c.dest.Name
	return nil, c.s.st.Update(func(col *store.Collection) error {
		if q := col.Qubes[name]; q != nil {
			q.Notes = notes
		}
		return nil
	})
}
