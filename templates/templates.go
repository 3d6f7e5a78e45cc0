// Package templates holds the text/template files wslb renders generated
// proxy configs from. The templates only range over and print a typed view
// model that the generator package computes; all decisions live in Go. Every
// user value in the view is already checked and quoted by the generator, so
// templates never quote; they format through three functions: dur (a
// duration in the largest exact unit), seconds (whole seconds) and words (a
// list joined by spaces).
package templates

import "embed"

// FS holds haproxy.cfg.tmpl and nginx.conf.tmpl.
//
//go:embed *.tmpl
var FS embed.FS
