package qvmcli

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"sort"
	"strings"
	"text/tabwriter"

	"github.com/qube-desktop/qube-desktop/internal/adminapi"
	"github.com/qube-desktop/qube-desktop/internal/qube"
)

func init() {
	commands["ls"] = command{summary: "list qubes with their state, class, label, template and network qube", usage: "[--running] [--format text|json] [NAME...]", setup: setupLs}
	commands["start"] = lifecycle("start qubes", func(ctx context.Context, c *adminapi.Client, n string) error { return c.Start(ctx, n) })
	commands["kill"] = lifecycle("stop qubes at once, without a clean shutdown", func(ctx context.Context, c *adminapi.Client, n string) error { return c.Kill(ctx, n) })
	commands["pause"] = lifecycle("pause running qubes", func(ctx context.Context, c *adminapi.Client, n string) error { return c.Pause(ctx, n) })
	commands["unpause"] = lifecycle("resume paused qubes", func(ctx context.Context, c *adminapi.Client, n string) error { return c.Unpause(ctx, n) })
	commands["shutdown"] = command{summary: "shut qubes down", usage: "[--wait] [--force] NAME...", setup: setupShutdown}
	commands["prefs"] = command{summary: "list, read, set or reset a qube's properties", usage: "[--default] NAME [PROPERTY [VALUE]]", setup: setupPrefs}
	commands["features"] = command{summary: "list, read, set or unset a qube's features", usage: "[--unset] NAME [FEATURE [VALUE]]", setup: setupFeatures}
	commands["tags"] = command{summary: "list, add or remove a qube's tags", usage: "NAME [list [TAG] | add TAG... | del TAG...]", setup: setupTags}
	commands["create"] = command{summary: "create a qube", usage: "--label LABEL [--class CLASS] [--template TEMPLATE] [--pool POOL] NAME", setup: setupCreate}
	commands["remove"] = command{summary: "remove qubes and all their data", usage: "[--force] NAME...", setup: setupRemove}
	commands["clone"] = command{summary: "copy a qube with its properties, tags, features and data", usage: "[--label LABEL] [--class CLASS] [--pool POOL] SOURCE NAME", setup: setupClone}
	commands["run"] = command{summary: "run a command in a qube", usage: "NAME COMMAND [ARGS...]", setup: setupRun, stopAfter: 1}
}

// dash shows an empty value the way qvm-ls does.
func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

type lsRow struct {
	Name     string `json:"name"`
	State    string `json:"state"`
	Class    string `json:"class"`
	Label    string `json:"label"`
	Template string `json:"template"`
	NetVM    string `json:"netvm"`
	UUID     string `json:"uuid,omitempty"`
}

func setupLs(fs *flag.FlagSet) func(context.Context, *env, []string) error {
	running := fs.Bool("running", false, "only qubes that are running, paused or starting")
	format := fs.String("format", "text", "output format: text or json")
	return func(ctx context.Context, e *env, args []string) error {
		if *format != "text" && *format != "json" {
			return usagef("unknown format %q (use text or json)", *format)
		}
		qs, loadErr := e.c.LoadQubes(ctx)
		var partial *adminapi.LoadError
		if loadErr != nil && !errors.As(loadErr, &partial) {
			return loadErr
		}
		want := map[string]bool{}
		for _, a := range args {
			want[a] = true
		}
		rows := []lsRow{}
		for _, q := range qs {
			named := want[q.Name]
			delete(want, q.Name)
			if *running && !q.State.IsActive() || len(args) > 0 && !named {
				continue
			}
			rows = append(rows, lsRow{Name: q.Name, State: string(q.State), Class: string(q.Class),
				Label: q.Label(), Template: q.Template(), NetVM: q.NetVM(), UUID: q.UUID})
		}
		if len(want) > 0 {
			var missing []string
			for n := range want {
				missing = append(missing, n)
			}
			sort.Strings(missing)
			return fmt.Errorf("no such qube: %s", strings.Join(missing, ", "))
		}
		if *format == "json" {
			enc := json.NewEncoder(e.Stdout)
			enc.SetIndent("", "  ")
			if err := enc.Encode(rows); err != nil {
				return err
			}
			return loadErr
		}
		w := tabwriter.NewWriter(e.Stdout, 0, 0, 2, ' ', 0)
		fmt.Fprintln(w, "NAME\tSTATE\tCLASS\tLABEL\tTEMPLATE\tNETVM")
		for _, r := range rows {
			fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\t%s\n", r.Name, r.State, r.Class, dash(r.Label), dash(r.Template), dash(r.NetVM))
		}
		if err := w.Flush(); err != nil {
			return err
		}
		return loadErr
	}
}

// lifecycle is a command that calls one method for each named qube.
func lifecycle(summary string, do func(context.Context, *adminapi.Client, string) error) command {
	return command{summary: summary, usage: "NAME...", setup: func(fs *flag.FlagSet) func(context.Context, *env, []string) error {
		return func(ctx context.Context, e *env, args []string) error {
			if err := need(args, 1, -1, "qube name"); err != nil {
				return err
			}
			return each(args, func(n string) error { return do(ctx, e.c, n) })
		}
	}}
}

// each runs f for every qube and reports the failures together: one line
// per failed qube after the first.
func each(names []string, f func(string) error) error {
	var errs []string
	for _, n := range names {
		if err := f(n); err != nil {
			if len(names) == 1 {
				return err
			}
			errs = append(errs, n+": "+oneLine(err))
		}
	}
	if len(errs) > 0 {
		return errors.New(strings.Join(errs, "; "))
	}
	return nil
}

func setupShutdown(fs *flag.FlagSet) func(context.Context, *env, []string) error {
	var o adminapi.ShutdownOptions
	fs.BoolVar(&o.Wait, "wait", false, "return only when the qubes are halted")
	fs.BoolVar(&o.Force, "force", false, "shut down even if other qubes use it (they lose their network)")
	return func(ctx context.Context, e *env, args []string) error {
		if err := need(args, 1, -1, "qube name"); err != nil {
			return err
		}
		return each(args, func(n string) error { return e.c.Shutdown(ctx, n, o) })
	}
}

func setupPrefs(fs *flag.FlagSet) func(context.Context, *env, []string) error {
	var reset bool
	fs.BoolVar(&reset, "default", false, "reset the property to its default")
	fs.BoolVar(&reset, "D", false, "short for --default")
	return func(ctx context.Context, e *env, args []string) error {
		if err := need(args, 1, 3, "qube name"); err != nil {
			return err
		}
		p := e.c.VMProps(args[0])
		switch {
		case reset && len(args) != 2:
			return usagef("--default takes a qube and one property, no value")
		case reset:
			return p.Reset(ctx, args[1])
		case len(args) == 3:
			return p.Set(ctx, args[1], args[2])
		case len(args) == 2:
			v, err := p.Get(ctx, args[1])
			if err == nil {
				fmt.Fprintln(e.Stdout, v.Value)
			}
			return err
		}
		props, err := p.GetAll(ctx)
		if err != nil {
			return err
		}
		width := 0
		for _, pr := range props {
			width = max(width, len(pr.Name))
		}
		for _, pr := range props {
			d := "-"
			if pr.Default {
				d = "D"
			}
			line := fmt.Sprintf("%-*s %s  %s", width, pr.Name, d, strings.ReplaceAll(pr.Value, "\n", `\n`))
			fmt.Fprintln(e.Stdout, strings.TrimRight(line, " "))
		}
		return nil
	}
}

func setupFeatures(fs *flag.FlagSet) func(context.Context, *env, []string) error {
	var unset bool
	fs.BoolVar(&unset, "unset", false, "remove the feature")
	fs.BoolVar(&unset, "D", false, "short for --unset")
	return func(ctx context.Context, e *env, args []string) error {
		if err := need(args, 1, 3, "qube name"); err != nil {
			return err
		}
		switch {
		case unset && len(args) != 2:
			return usagef("--unset takes a qube and one feature, no value")
		case unset:
			return e.c.FeatureRemove(ctx, args[0], args[1])
		case len(args) == 3:
			return e.c.FeatureSet(ctx, args[0], args[1], args[2])
		case len(args) == 2:
			v, err := e.c.FeatureGet(ctx, args[0], args[1])
			if err == nil {
				fmt.Fprintln(e.Stdout, v)
			}
			return err
		}
		names, err := e.c.FeatureList(ctx, args[0])
		if err != nil {
			return err
		}
		w := tabwriter.NewWriter(e.Stdout, 0, 0, 2, ' ', 0)
		for _, n := range names {
			v, err := e.c.FeatureGet(ctx, args[0], n)
			if err != nil {
				return err
			}
			fmt.Fprintf(w, "%s\t%s\n", n, v)
		}
		return w.Flush()
	}
}

func setupTags(fs *flag.FlagSet) func(context.Context, *env, []string) error {
	return func(ctx context.Context, e *env, args []string) error {
		if err := need(args, 1, -1, "qube name"); err != nil {
			return err
		}
		name, action, tags := args[0], "list", []string(nil)
		if len(args) > 1 {
			action, tags = args[1], args[2:]
		}
		switch action {
		case "list", "ls", "l":
			if len(tags) > 1 {
				return usagef("list takes at most one tag")
			}
			if len(tags) == 1 {
				has, err := e.c.TagGet(ctx, name, tags[0])
				if err == nil && !has {
					return fmt.Errorf("qube %s has no tag %s", name, tags[0])
				}
				if err == nil {
					fmt.Fprintln(e.Stdout, tags[0])
				}
				return err
			}
			all, err := e.c.TagList(ctx, name)
			for _, t := range all {
				fmt.Fprintln(e.Stdout, t)
			}
			return err
		case "add", "a", "set":
			if len(tags) == 0 {
				return usagef("add needs at least one tag")
			}
			return each(tags, func(t string) error { return e.c.TagSet(ctx, name, t) })
		case "del", "d", "unset", "u":
			if len(tags) == 0 {
				return usagef("del needs at least one tag")
			}
			return each(tags, func(t string) error { return e.c.TagRemove(ctx, name, t) })
		}
		return usagef("unknown action %q (use list, add or del)", action)
	}
}

// classFlag accepts qvm-create's class names case-insensitively.
func classFlag(s string) (qube.Class, error) {
	for _, c := range qube.Classes {
		if strings.EqualFold(s, string(c)) {
			return c, nil
		}
	}
	var names []string
	for _, c := range qube.Classes {
		names = append(names, string(c))
	}
	return "", usagef("unknown class %q (one of %s)", s, strings.Join(names, ", "))
}

func setupCreate(fs *flag.FlagSet) func(context.Context, *env, []string) error {
	class := fs.String("class", "AppVM", "qube class: AppVM, TemplateVM, StandaloneVM, DispVM")
	label := fs.String("label", "", "label (colour): red, orange, yellow, green, gray, blue, purple, black")
	template := fs.String("template", "", "template to base the qube on (AppVM and DispVM; default: the global default_template)")
	pool := fs.String("pool", "", "storage pool for all volumes")
	return func(ctx context.Context, e *env, args []string) error {
		if err := need(args, 1, 1, "name of the new qube"); err != nil {
			return err
		}
		if *label == "" {
			return usagef("--label is required (red, orange, yellow, green, gray, blue, purple, black)")
		}
		c, err := classFlag(*class)
		if err != nil {
			return err
		}
		return e.c.Create(ctx, adminapi.CreateOptions{Class: c, Name: args[0], Label: *label, Template: *template, Pool: *pool})
	}
}

func setupRemove(fs *flag.FlagSet) func(context.Context, *env, []string) error {
	var force bool
	fs.BoolVar(&force, "force", false, "do not ask for confirmation")
	fs.BoolVar(&force, "f", false, "short for --force")
	return func(ctx context.Context, e *env, args []string) error {
		if err := need(args, 1, -1, "qube name"); err != nil {
			return err
		}
		if !force {
			fmt.Fprintf(e.Stdout, "This will completely remove the selected qube(s) and all their data:\n  %s\nAre you sure? [y/N] ", strings.Join(args, "\n  "))
			answer, _ := bufio.NewReader(e.Stdin).ReadString('\n')
			if a := strings.ToLower(strings.TrimSpace(answer)); a != "y" && a != "yes" {
				return errors.New("not confirmed, nothing removed (use --force to skip the question)")
			}
		}
		return each(args, func(n string) error { return e.c.Remove(ctx, n) })
	}
}

func setupClone(fs *flag.FlagSet) func(context.Context, *env, []string) error {
	label := fs.String("label", "", "label of the copy (default: the source's)")
	class := fs.String("class", "", "class of the copy (default: the source's)")
	pool := fs.String("pool", "", "storage pool for the copy's volumes")
	return func(ctx context.Context, e *env, args []string) error {
		if err := need(args, 2, 2, "source qube and new name"); err != nil {
			return err
		}
		o := adminapi.CloneOptions{Label: *label, Pool: *pool}
		if *class != "" {
			c, err := classFlag(*class)
			if err != nil {
				return err
			}
			o.Class = c
		}
		return e.c.Clone(ctx, args[0], args[1], o)
	}
}

func setupRun(fs *flag.FlagSet) func(context.Context, *env, []string) error {
	return func(ctx context.Context, e *env, args []string) error {
		if err := need(args, 2, -1, "qube name and command"); err != nil {
			return err
		}
		return e.c.Run(ctx, args[0], strings.Join(args[1:], " "))
	}
}
