package rules

import (
	"testing"

	"github.com/stretchr/testify/require"
)

func TestHTTPOriginVar(t *testing.T) {
	for arg, want := range map[string]bool{
		"$http_origin": true, "${http_origin}": true, "$HTTP_Origin": true, `"$scheme:$http_origin"`: true,
		"$http_origin_x": false, "$http_originator": false, "$origin": false, "http_origin": false,
	} {
		require.Equal(t, want, httpOriginVar.MatchString(arg), arg)
	}
}
