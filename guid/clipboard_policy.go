package guid

import (
	"context"
	"errors"
	"time"

	"github.com/qube-desktop/qube-desktop/internal/adminapi"
	"github.com/qube-desktop/qube-desktop/internal/policy"
	"github.com/qube-desktop/qube-desktop/internal/qube"
)

// AdminLookup answers the paste policy's questions about a qube (its
// type, tags and, for a disposable, its template: the @type:, @tag: and
// @dispvm tokens) through the Admin API, each lookup bounded by timeout.
// It is asked only when a rule names such a token. A qube qubesd does not
// know matches none of them; any other failure (qubesd unreachable, a
// refused call) makes the evaluation fail, which denies the paste: a rule
// skipped for want of a tag could let a later, wider rule allow it.
func AdminLookup(c *adminapi.Client, timeout time.Duration) policy.Lookup {
	return func(name string) (policy.Qube, error) {
		ctx, cancel := context.WithTimeout(context.Background(), timeout)
		defer cancel()
		q, err := c.ListQube(ctx, name)
		if errors.Is(err, adminapi.ErrVMNotFound) {
			return policy.Qube{}, policy.ErrNoQube
		}
		if err != nil {
			return policy.Qube{}, err
		}
		tags, err := c.TagList(ctx, name)
		if err != nil {
			return policy.Qube{}, err
		}
		pq := policy.Qube{Type: string(q.Class), Tags: tags}
		if q.Class == qube.DispVM {
			p, err := c.VMProps(name).Get(ctx, "template")
			if err != nil {
				return policy.Qube{}, err
			}
			pq.Template = p.Value
		}
		return pq, nil
	}
}
