package cli

import (
	"errors"

	"github.com/spf13/cobra"
)

// NewCmdGenerate is replaced by the full command.
func NewCmdGenerate(streams IOStreams) *cobra.Command {
	return &cobra.Command{
		Use:    "generate",
		Hidden: true,
		RunE: func(*cobra.Command, []string) error {
			return errors.New("generate: not available in this build")
		},
	}
}
