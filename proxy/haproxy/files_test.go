package haproxy

import (
	"testing"

	"github.com/stretchr/testify/require"
)

func TestFilesNamed(t *testing.T) {
	t.Parallel()
	for line, want := range map[string][]FileRef{
		"errorfile 503 /e/503.http":                             {{1, "/e/503.http"}},
		"lua-load /l/a.lua":                                     {{0, "/l/a.lua"}},
		"issuers-chain-path /certs":                             {{0, "/certs"}},
		"bind :443 ssl crt /c/site.pem ca-file /c/ca.pem":       {{3, "/c/site.pem"}, {5, "/c/ca.pem"}},
		"acl bad src -f /p/bad.lst -M":                          {{3, "/p/bad.lst"}},
		"http-error status 503 errorfile /e/x.http":             {{3, "/e/x.http"}},
		"http-request return status 200 file /r/ok lf-file r2":  {{4, "/r/ok"}, {6, "r2"}},
		"http-request set-header X %[src,map_ip(/m/geo.map,-)]": {{2, "/m/geo.map"}},
		"http-request set-map(/m/a.map) %[src] %[src]":          {{0, "/m/a.map"}},
		"mode http":        nil,
		"timeout check 1s": nil,
	} {
		words, _, err := Tokenize(line)
		require.NoError(t, err)
		var args []string
		for _, w := range words[1:] {
			args = append(args, w.Text)
		}
		require.Equal(t, want, FilesNamed(words[0].Text, args), line)
	}
}
