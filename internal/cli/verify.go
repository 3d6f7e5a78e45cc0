package cli

import (
	"errors"

	"github.com/spf13/cobra"
)

// NewCmdVerify is replaced by the full command.
func NewCmdVerify(streams IOStreams) *cobra.Command {
	return &cobra.Command{
		Use:    "verify",
		Hidden: true,
		RunE: func(*cobra.Command, []string) error {
			return errors.New("verify: not available in this build")
		},
	}
}
