package main

import (
	"fmt"
	"io"
	"strings"

	"github.com/spf13/cobra"
)

// writeCLIReference writes the Markdown reference of every command, from
// the command tree itself (docs/cli.md; TestCLIReference keeps it current).
func writeCLIReference(w io.Writer, root *cobra.Command) error {
	var b strings.Builder
	b.WriteString("# Command reference\n\nGenerated from the command tree by `go test ./cmd/clawtrace -run CLIReference -update`; do not edit.\n\n")
	fmt.Fprintf(&b, "%s\n\n", root.Long)
	b.WriteString("| exit code | meaning |\n|---:|---|\n| 0 | done |\n| 1 | the job failed (an input path named on the command line does not exist — reported, the rest still processed —, write error, unreachable endpoint, malformed baseline) |\n| 2 | bad flags or arguments |\n| 3 | `--strict` and some input lines or files were skipped (a file found but unreadable — permission denied, corrupt database or gzip/zstd stream, dangling link — is reported and counted as a skipped file; without `--strict` the exit code stays 0) |\n| 4 | `check`: a regression threshold was crossed |\n| 130 | interrupted |\n\n")
	var walk func(c *cobra.Command)
	walk = func(c *cobra.Command) {
		for _, sub := range c.Commands() {
			if !sub.IsAvailableCommand() || sub.Name() == "help" || sub.Name() == "completion" {
				continue
			}
			fmt.Fprintf(&b, "## %s\n\n%s\n\n```\n%s\n```\n\n", sub.CommandPath(), sub.Short, sub.UseLine())
			if sub.Long != "" {
				fmt.Fprintf(&b, "%s\n\n", sub.Long)
			}
			if sub.Example != "" {
				fmt.Fprintf(&b, "Examples:\n\n```\n%s\n```\n\n", sub.Example)
			}
			if f := sub.NonInheritedFlags().FlagUsages(); strings.TrimSpace(f) != "" {
				fmt.Fprintf(&b, "Flags:\n\n```\n%s```\n\n", f)
			}
			walk(sub)
		}
	}
	walk(root)
	b.WriteString("`clawtrace completion bash|zsh|fish|powershell` prints a shell completion script.\n")
	_, err := io.WriteString(w, b.String())
	return err
}
