package istio_test

import "testing"

// FuzzGenerate feeds HCL through the loader and the Istio generator. The
// invariant: the loader rejects the input, or the generator writes YAML
// whose every document is an object with an apiVersion, a kind and a
// name. (The schema check runs on the golden and edge files: too slow to
// run per input.)
//
//	go test ./proxy/istio -run '^$' -fuzz FuzzGenerate -fuzztime 1m
func FuzzGenerate(f *testing.F) { target.Fuzz(f, globs, nil) }
