package docker

import (
	"context"
	"fmt"
	"io"
	"time"

	"github.com/moby/moby/client"

	"github.com/wslb/wslb/driver"
	"github.com/wslb/wslb/proxy"
	"github.com/wslb/wslb/topology"
)

// versionTimeout bounds the version question asked in the proxy's
// container.
const versionTimeout = 15 * time.Second

// checkVersion asks the proxy binary in the running container for its
// version and refuses an image whose MAJOR.MINOR is not the version this
// run generated and checked the config for: the report names that version,
// and an image holding another (--proxy-image) would serve under its name.
func (p *Proxy) checkVersion(ctx context.Context, d *proxy.Descriptor) error {
	if d.ParseVersion == nil {
		return nil
	}
	want := p.spec.Binary.Version
	out, err := p.exec(ctx, append([]string{string(p.spec.Binary.Kind)}, d.VersionArgs...))
	if err != nil {
		return fmt.Errorf("ask %s in %s for its version: %w", p.spec.Binary.Kind, p.image, err)
	}
	got, err := d.ParseVersion(out)
	if err != nil {
		return fmt.Errorf("ask %s in %s for its version: %w", p.spec.Binary.Kind, p.image, err)
	}
	if !sameMinor(got, want) {
		return driver.Unavailable(fmt.Errorf("the image holds %s %s, not %d.%d, the version this run generated and checked the config for: name the image's version with --proxy-version %s=%d.%d, or another image with --proxy-image",
			p.spec.Binary.Kind, got, want.Major, want.Minor, p.spec.Binary.Kind, got.Major, got.Minor))
	}
	return nil
}

func sameMinor(a, b topology.Version) bool { return a.Major == b.Major && a.Minor == b.Minor }

// exec runs cmd in the proxy's container and returns its output (standard
// output and error as one stream, through a terminal), at most 64 KiB.
func (p *Proxy) exec(ctx context.Context, cmd []string) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, versionTimeout)
	defer cancel()
	x, err := p.e.cli.ExecCreate(ctx, p.id, client.ExecCreateOptions{
		User: "0", TTY: true, AttachStdout: true, AttachStderr: true, Cmd: cmd,
	})
	if err != nil {
		return "", err
	}
	att, err := p.e.cli.ExecAttach(ctx, x.ID, client.ExecAttachOptions{TTY: true})
	if err != nil {
		return "", err
	}
	defer att.Close()
	// The read ends with the command; the deadline, if it hangs.
	stop := context.AfterFunc(ctx, att.Close)
	defer stop()
	b, err := io.ReadAll(io.LimitReader(att.Reader, 64<<10))
	if err != nil && ctx.Err() != nil {
		return "", ctx.Err()
	}
	return string(b), nil
}
