// Package templates holds the text/template files wslb renders generated
// proxy configs from. The templates only range over and print a view model
// that the generator package computes; all decisions live in Go.
package templates

import "embed"

// FS holds haproxy.cfg.tmpl and nginx.conf.tmpl.
//
//go:embed *.tmpl
var FS embed.FS
