package cli

import (
	"github.com/spf13/cobra"
)

// NewCmdCompletion writes shell completion scripts.
func NewCmdCompletion(streams IOStreams) *cobra.Command {
	return &cobra.Command{
		Use:   "completion bash|zsh|fish",
		Short: "Print a shell completion script",
		Long: `Print a completion script for bash, zsh or fish. Enum flags such as
--proxy, --format and --scenarios complete their values.`,
		Example: `  # bash, for the current shell:
  source <(wslb completion bash)
  # zsh, installed:
  wslb completion zsh > "${fpath[1]}/_wslb"
  # fish:
  wslb completion fish > ~/.config/fish/completions/wslb.fish`,
		Args:      cobra.MatchAll(cobra.ExactArgs(1), cobra.OnlyValidArgs),
		ValidArgs: []string{"bash", "zsh", "fish"},
		RunE: func(cmd *cobra.Command, args []string) error {
			root := cmd.Root()
			switch args[0] {
			case "bash":
				return root.GenBashCompletionV2(streams.Out, true)
			case "zsh":
				return root.GenZshCompletion(streams.Out)
			default:
				return root.GenFishCompletion(streams.Out, true)
			}
		},
	}
}

// enumFlagCompletion completes a flag with a fixed set of values.
func enumFlagCompletion(values ...string) func(*cobra.Command, []string, string) ([]string, cobra.ShellCompDirective) {
	return func(*cobra.Command, []string, string) ([]string, cobra.ShellCompDirective) {
		return values, cobra.ShellCompDirectiveNoFileComp
	}
}
