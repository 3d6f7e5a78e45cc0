package words

import (
	"testing"

	"github.com/stretchr/testify/require"
)

func TestOr(t *testing.T) {
	require.Equal(t, "", Or(nil))
	require.Equal(t, "a", Or([]string{"a"}))
	require.Equal(t, "a or b", Or([]string{"a", "b"}))
	require.Equal(t, "a, b or c", Or([]string{"a", "b", "c"}))
}
