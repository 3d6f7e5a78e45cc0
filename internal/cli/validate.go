package cli

import (
	"errors"

	"github.com/spf13/cobra"
)

// NewCmdValidate is replaced by the full command.
func NewCmdValidate(streams IOStreams) *cobra.Command {
	return &cobra.Command{
		Use:    "validate",
		Hidden: true,
		RunE: func(*cobra.Command, []string) error {
			return errors.New("validate: not available in this build")
		},
	}
}
