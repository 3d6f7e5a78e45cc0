package rewrite

import (
	"testing"

	"github.com/stretchr/testify/require"
)

func TestPanicsBecomeErrors(t *testing.T) {
	rewrite := func() (err error) {
		defer recoverInternal("odd.conf", &err)
		var args []string
		_ = args[1] // what an unexpected config structure would do
		return nil
	}
	err := rewrite()
	require.ErrorIs(t, err, ErrInternal)
	require.Contains(t, err.Error(), "odd.conf")
}
