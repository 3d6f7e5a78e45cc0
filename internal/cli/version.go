package cli

import (
	"fmt"
	"runtime/debug"

	"github.com/spf13/cobra"
)

// Version is set at build time with -ldflags "-X github.com/wslb/wslb/internal/cli.Version=v1.2.3".
var Version = ""

func versionString() string {
	if Version != "" {
		return Version
	}
	if info, ok := debug.ReadBuildInfo(); ok && info.Main.Version != "" && info.Main.Version != "(devel)" {
		return info.Main.Version
	}
	// Numeric, so SARIF consumers can compare versions.
	return "0.0.0-dev"
}

// NewCmdVersion prints the wslb version.
func NewCmdVersion(streams IOStreams) *cobra.Command {
	return &cobra.Command{
		Use:     "version",
		Short:   "Print the wslb version",
		Example: "  wslb version",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			_, err := fmt.Fprintf(streams.Out, "wslb %s\n", versionString())
			return err
		},
	}
}
