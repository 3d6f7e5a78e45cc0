package cli

import (
	"errors"

	"github.com/spf13/cobra"
)

// NewCmdEcho is replaced by the full command.
func NewCmdEcho(streams IOStreams) *cobra.Command {
	return &cobra.Command{
		Use:    "echo",
		Hidden: true,
		RunE: func(*cobra.Command, []string) error {
			return errors.New("echo: not available in this build")
		},
	}
}
