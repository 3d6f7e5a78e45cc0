package driver

import "context"

// Image is a container image a run's nodes ran from.
type Image struct {
	// Role is what ran from it: proxy, node (wslb's own hosts, clients
	// and echo backends), backend (the user's --backend-cmd), broker.
	Role string
	// Ref is the image as the run named it ("haproxy:2.6").
	Ref string
	// ID is the engine's content-addressed image ID ("sha256:…"), "" if
	// the engine did not say.
	ID string
}

// Imager is an Env whose nodes run from container images: verify reports
// which. Drivers that run processes on the host (loopback, netns) do not
// implement it.
type Imager interface {
	// Images lists the images the run has used so far, in a stable order
	// (proxy first).
	Images(ctx context.Context) []Image
}
