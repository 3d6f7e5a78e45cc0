package haproxy

import "github.com/wslb/wslb/proxy"

// ServerAddresses lists the addresses of the server and server-template
// lines of c, whose text is text, placed where they are written plainly.
func (c *Config) ServerAddresses(text []byte) []proxy.Address {
	var out []proxy.Address
	starts := proxy.LineStarts(text)
	for _, s := range c.Sections {
		for _, d := range s.Directives {
			i := 0 // the address's argument
			switch d.Keyword {
			case "server":
				i = 1
			case "server-template":
				i = 2
			}
			if i == 0 || len(d.Args) <= i {
				continue
			}
			tok := d.Args[i]
			host, at := proxy.AddrHost(tok)
			off := -1
			if d.Line-1 < len(starts) && i < len(d.ArgColumns) {
				// The column is where the token starts as written;
				// place it only when it is written plainly.
				o := starts[d.Line-1] + d.ArgColumns[i] - 1
				if o < len(text) && (text[o] == '"' || text[o] == '\'') {
					o++
				}
				if o+len(tok) <= len(text) && string(text[o:o+len(tok)]) == tok {
					off = o
				}
			}
			out = append(out, proxy.Address{File: c.File, Off: off, Token: tok, Host: host, At: at})
		}
	}
	return out
}
