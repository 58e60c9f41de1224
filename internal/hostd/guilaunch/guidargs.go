package guilaunch

import (
	"log"
	"strconv"
	"strings"

	"github.com/qube-desktop/qube-desktop/internal/clipboard"
)

// featureFlags maps the boolean GUI options (spec §5.7) to qube-guid's
// flags; the clipboard options go through clipboard.ConfigFromFeatures.
var featureFlags = []struct{ option, flag string }{
	{"allow-fullscreen", "-allow-fullscreen"},
	{"allow-utf8-titles", "-allow-utf8-titles"},
}

// clipboardOptions are the options clipboard.ConfigFromFeatures reads.
var clipboardOptions = []string{"secure-copy-sequence", "secure-paste-sequence", "max-clipboard-size"}

// featureArgs turns a qube's features into qube-guid flags as Qubes'
// qvm-start-daemon does: gui-<option> on the qube, else
// gui-default-<option> on the GUI domain (here dom0), else qube-guid's
// default. Features are set by whoever manages the qube, so an invalid
// value is logged and left at the default: it never stops the qube's GUI.
func featureArgs(name string, qube, gui map[string]string, lg *log.Logger) []string {
	var args []string
	for _, f := range featureFlags {
		v, from, ok := lookup(qube, gui, f.option)
		if !ok {
			continue
		}
		on, valid := parseBool(v)
		if !valid {
			lg.Printf("%s: feature %s = %q is not a boolean (1 or empty); using the default", name, from, v)
			continue
		}
		args = append(args, f.flag+"="+strconv.FormatBool(on))
	}
	// One option at a time, so that one bad value leaves the others.
	for _, opt := range clipboardOptions {
		v, from, ok := lookup(qube, gui, opt)
		if !ok {
			continue
		}
		c, err := clipboard.ConfigFromFeatures(map[string]string{"gui-" + opt: v}, nil)
		if err != nil {
			lg.Printf("%s: feature %s: %v; using the default", name, from, err)
			continue
		}
		switch opt {
		case "secure-copy-sequence":
			args = append(args, "-copy-sequence", c.Copy.String())
		case "secure-paste-sequence":
			args = append(args, "-paste-sequence", c.Paste.String())
		case "max-clipboard-size":
			args = append(args, "-max-clipboard", strconv.Itoa(c.MaxSize))
		}
	}
	if v, from, ok := lookup(qube, gui, "events-max-delay"); ok {
		if ms, err := strconv.Atoi(v); err != nil || ms < 0 || ms > maxEventsDelayMs {
			lg.Printf("%s: feature %s = %q is not a delay of 0..%d ms; using the default (off)", name, from, v, maxEventsDelayMs)
		} else {
			args = append(args, "-events-max-delay", strconv.Itoa(ms))
		}
	}
	return args
}

// maxEventsDelayMs is the range of events_max_delay (spec §5.6) that
// qube-guid's -events-max-delay accepts.
const maxEventsDelayMs = 5000

// lookup finds an option's value and the feature it came from.
func lookup(qube, gui map[string]string, option string) (value, feature string, ok bool) {
	if v, ok := qube["gui-"+option]; ok {
		return v, "gui-" + option, true
	}
	if v, ok := gui["gui-default-"+option]; ok {
		return v, "gui-default-" + option + " (GUI domain)", true
	}
	return "", "", false
}

// parseBool reads a boolean feature: Qubes stores true as "1" and false
// as ""; the spellings people type by hand are accepted too.
func parseBool(v string) (on, valid bool) {
	switch strings.ToLower(v) {
	case "1", "true", "yes", "on":
		return true, true
	case "", "0", "false", "no", "off":
		return false, true
	}
	return false, false
}
