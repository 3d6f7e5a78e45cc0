package nginx

import (
	"errors"
	"fmt"
	"io/fs"
	"path/filepath"

	crossplane "github.com/nginxinc/nginx-go-crossplane"
)

// DefaultMaxNodes bounds the directives of a config with its includes
// inlined (a 100,000-location config has about a million).
const DefaultMaxNodes = 4 << 20

// VetMatches keeps the files an include pattern matched that l allows:
// none when they are more than MaxFanOut, else those l.Check accepts (a
// file gone since the glob is kept: opening it reports it). why says why
// files were left out, "" when none were.
func (l Limits) VetMatches(matches []string) (kept []string, why string) {
	l = l.withDefaults()
	if len(matches) > l.MaxFanOut {
		return nil, fmt.Sprintf("matches %d files, more than %d", len(matches), l.MaxFanOut)
	}
	if l.Check == nil {
		return matches, ""
	}
	kept = matches[:0:0]
	for _, f := range matches {
		if err := l.Check(f); err != nil && !errors.Is(err, fs.ErrNotExist) {
			why = err.Error()
			continue
		}
		kept = append(kept, f)
	}
	return kept, why
}

// RefusedIncludes returns a Problem at each include of p, in file order,
// whose pattern refused holds (as made absolute from dir, or as one of
// alts of it when alts is set) with why it was refused. Problem.File is
// the payload's file name.
func RefusedIncludes(p *crossplane.Payload, dir string, refused map[string]string, alts func(string) []string) []Problem {
	if len(refused) == 0 {
		return nil
	}
	var out []Problem
	var walk func(file string, ds crossplane.Directives, depth int)
	walk = func(file string, ds crossplane.Directives, depth int) {
		for _, d := range ds {
			if d.Directive == "include" && len(d.Args) > 0 {
				pattern := d.Args[0]
				if !filepath.IsAbs(pattern) {
					pattern = filepath.Join(dir, pattern)
				}
				tries := []string{pattern}
				if alts != nil {
					tries = append(tries, alts(pattern)...)
				}
				for _, pat := range tries {
					if why, ok := refused[pat]; ok {
						out = append(out, Problem{File: file, Line: d.Line, Message: fmt.Sprintf("include %s refused: %s", d.Args[0], why)})
						break
					}
				}
			}
			if depth < maxDepth {
				walk(file, d.Block, depth+1)
			}
		}
	}
	for _, cfg := range p.Config {
		walk(cfg.File, cfg.Parsed, 0)
	}
	return out
}

// CheckIncludes bounds what inlining p's includes would build: includes
// nested deeper than maxDepth, or a tree of more than maxNodes directives
// (a file included ten times from a file included ten times ... grows
// exponentially), come back as a Problem at the include line of the main
// file that leads there. Each file's inlined size and include height are
// counted once, so the check itself is linear in the files read.
func CheckIncludes(p *crossplane.Payload, maxDepth, maxNodes int) *Problem {
	if p == nil || len(p.Config) == 0 {
		return nil
	}
	type measure struct{ size, height int }
	memo := make([]measure, len(p.Config))
	state := make([]byte, len(p.Config)) // 0 new, 1 counting, 2 done
	var file func(idx int) measure
	// block measures ds; at the top (the main file) it also names the
	// first include that makes the whole too deep or too large.
	var block func(ds crossplane.Directives, top bool, nested int) (measure, *Problem)
	block = func(ds crossplane.Directives, top bool, nested int) (measure, *Problem) {
		var m measure
		for _, d := range ds {
			m.size++
			for _, inc := range d.Includes {
				sub := file(inc)
				m.size = min(m.size+sub.size, maxNodes+1)
				m.height = max(m.height, sub.height+1)
				if top && sub.height+1 > maxDepth {
					return m, &Problem{Line: d.Line, Message: fmt.Sprintf("includes nest deeper than %d levels below this include", maxDepth)}
				}
				if top && m.size > maxNodes {
					return m, &Problem{Line: d.Line, Message: fmt.Sprintf("with its includes inlined the config has more than %d directives (an include bomb?)", maxNodes)}
				}
			}
			if nested < maxDepth*4 {
				sub, prob := block(d.Block, top, nested+1)
				m.size = min(m.size+sub.size, maxNodes+1)
				m.height = max(m.height, sub.height)
				if prob != nil {
					return m, prob
				}
			}
		}
		return m, nil
	}
	file = func(idx int) measure {
		if idx < 0 || idx >= len(p.Config) {
			return measure{}
		}
		switch state[idx] {
		case 2:
			return memo[idx]
		case 1:
			return measure{} // a cycle; crossplane reports it
		}
		state[idx] = 1
		memo[idx], _ = block(p.Config[idx].Parsed, false, 0)
		state[idx] = 2
		return memo[idx]
	}
	state[0] = 1
	_, prob := block(p.Config[0].Parsed, true, 0)
	if prob != nil {
		prob.File = p.Config[0].File
	}
	return prob
}
