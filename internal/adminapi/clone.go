package adminapi

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/qube-desktop/qube-desktop/internal/qube"
)

// CloneOptions change what Clone creates; empty fields copy the source.
type CloneOptions struct {
	Label string
	Class qube.Class
	Pool  string
}

// cloneSkip are the properties a clone does not copy (qubesadmin's
// clone_vm): its identity, and what Create already set.
var cloneSkip = map[string]bool{"name": true, "qid": true, "template": true, "label": true, "uuid": true, "installed_by_rpm": true}

// Clone copies a qube the way qubesadmin's clone_vm does, as there is no
// single Admin API call for it: create the new qube, copy the properties set
// explicitly, the tags (but created-by-*), the features, and the data of
// every save_on_stop volume (CloneFrom/CloneTo). If a step fails, the new
// qube is removed again.
func (c *Client) Clone(ctx context.Context, src, dst string, o CloneOptions) (err error) {
	q, err := c.ListQube(ctx, src)
	if err != nil {
		return err
	}
	props, err := c.VMProps(src).GetAll(ctx)
	if err != nil {
		return err
	}
	byName := map[string]qube.Property{}
	for _, p := range props {
		byName[p.Name] = p
	}
	co := CreateOptions{Class: q.Class, Name: dst, Label: byName["label"].Value, Pool: o.Pool}
	if o.Class != "" {
		co.Class = o.Class
	}
	if o.Label != "" {
		co.Label = o.Label
	}
	if co.Class.NeedsTemplate() {
		co.Template = byName["template"].Value
	}
	if err := c.Create(ctx, co); err != nil {
		return err
	}
	defer func() {
		if err != nil {
			if rerr := c.Remove(context.WithoutCancel(ctx), dst); rerr != nil {
				err = fmt.Errorf("%w (and removing the half-made %s failed: %v)", err, dst, rerr)
			}
		}
	}()
	for _, p := range props {
		if p.Default || cloneSkip[p.Name] {
			continue
		}
		if err := c.VMProps(dst).Set(ctx, p.Name, p.Value); err != nil && !errors.Is(err, ErrNoSuchProperty) {
			return fmt.Errorf("clone %s to %s: copy property %s: %w", src, dst, p.Name, err)
		}
	}
	tags, err := c.TagList(ctx, src)
	if err != nil {
		return err
	}
	for _, t := range tags {
		if strings.HasPrefix(t, "created-by-") {
			continue
		}
		if err := c.TagSet(ctx, dst, t); err != nil {
			return fmt.Errorf("clone %s to %s: copy tag %s: %w", src, dst, t, err)
		}
	}
	feats, err := c.FeatureList(ctx, src)
	if err != nil {
		return err
	}
	for _, f := range feats {
		v, err := c.FeatureGet(ctx, src, f)
		if err == nil {
			err = c.FeatureSet(ctx, dst, f, v)
		}
		if err != nil {
			return fmt.Errorf("clone %s to %s: copy feature %s: %w", src, dst, f, err)
		}
	}
	vols, err := c.VolumeList(ctx, src)
	if err != nil {
		return err
	}
	for _, v := range vols {
		info, err := c.VolumeInfo(ctx, src, v)
		if err != nil {
			return err
		}
		if !info.SaveOnStop {
			continue
		}
		token, err := c.Call(ctx, "admin.vm.volume.CloneFrom", v, src, nil)
		if err == nil {
			err = c.call0(ctx, "admin.vm.volume.CloneTo", v, dst, token)
		}
		if err != nil {
			return fmt.Errorf("clone %s to %s: copy volume %s: %w", src, dst, v, err)
		}
	}
	return nil
}
