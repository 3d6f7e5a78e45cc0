package nginx

import (
	"fmt"

	crossplane "github.com/nginxinc/nginx-go-crossplane"
)

// CheckIncludes bounds what inlining p's includes would build: includes
// nested deeper than maxDepth, or a tree of more than maxNodes directives
// (a file included ten times from a file included ten times ... grows
// exponentially), come back as a Problem at the include line that crosses
// the bound. The sizes are counted once per file, so the check itself is
// linear in the files read.
func CheckIncludes(p *crossplane.Payload, maxDepth, maxNodes int) *Problem {
	if p == nil || len(p.Config) == 0 {
		return nil
	}
	size := make([]int, len(p.Config))
	state := make([]byte, len(p.Config)) // 0 new, 1 counting, 2 done
	var problem *Problem
	var count func(idx, depth int) int
	var block func(file string, ds crossplane.Directives, depth int) int
	block = func(file string, ds crossplane.Directives, depth int) int {
		n := 0
		for _, d := range ds {
			if problem != nil {
				return n
			}
			n++
			for _, inc := range d.Includes {
				if depth+1 > maxDepth {
					problem = &Problem{File: file, Line: d.Line, Message: fmt.Sprintf("includes nest deeper than %d levels", maxDepth)}
					return n
				}
				n += count(inc, depth+1)
				if n > maxNodes {
					problem = &Problem{File: file, Line: d.Line, Message: fmt.Sprintf("with its includes inlined the config has more than %d directives (an include bomb?)", maxNodes)}
					return n
				}
			}
			n += block(file, d.Block, depth)
			if n > maxNodes && problem == nil {
				problem = &Problem{File: file, Line: d.Line, Message: fmt.Sprintf("with its includes inlined the config has more than %d directives (an include bomb?)", maxNodes)}
			}
		}
		return n
	}
	count = func(idx, depth int) int {
		if idx < 0 || idx >= len(p.Config) {
			return 0
		}
		switch state[idx] {
		case 2:
			return size[idx]
		case 1:
			return 0 // a cycle; crossplane reports it
		}
		state[idx] = 1
		size[idx] = block(p.Config[idx].File, p.Config[idx].Parsed, depth)
		state[idx] = 2
		return size[idx]
	}
	count(0, 0)
	return problem
}
