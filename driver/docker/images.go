package docker

import (
	"context"

	"github.com/wslb/wslb/driver"
)

var _ driver.Imager = (*Env)(nil)

// Images lists the images the run's containers ran from — the proxy's,
// the node image, the user's servers' and the broker's — each with the ID
// the engine gives it now.
func (e *Env) Images(ctx context.Context) []driver.Image {
	e.mu.Lock()
	var out []driver.Image
	if e.proxy != nil {
		out = append(out, driver.Image{Role: "proxy", Ref: e.proxy.image})
	}
	if e.node != "" {
		out = append(out, driver.Image{Role: "node", Ref: e.node})
	}
	if e.backends != nil && e.backends.image != e.node {
		out = append(out, driver.Image{Role: "backend", Ref: e.backends.image})
	}
	if e.broker != nil {
		out = append(out, driver.Image{Role: "broker", Ref: RuntimeImage})
	}
	e.mu.Unlock()
	for i := range out {
		if res, err := e.cli.ImageInspect(ctx, out[i].Ref); err == nil {
			out[i].ID = res.ID
		}
	}
	return out
}
