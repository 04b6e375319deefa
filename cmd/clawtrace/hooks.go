package main

import (
	"fmt"
	"io"

	"github.com/spf13/cobra"

	"github.com/clawtrace/clawtrace/plugin"
)

func init() { extraCommands = append(extraCommands, newHooksCmd) }

func newHooksCmd(stdio IO) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "hooks",
		Short: "Install or remove the OpenClaw plugin that records hook dumps",
		Long: `OpenClaw's hooks are the only place where the start and end of every
provider call, every failed attempt and every tool's own duration are
visible. clawtrace ships a small plugin (plain JavaScript, no dependencies)
that appends the hook events clawtrace reads (every hook with --all-hooks)
to <state>/clawtrace/hooks.jsonl; clawtrace
finds that file when it reads the state dir. See docs/capture.md.`,
		// Runnable only to reject what is not a subcommand: cobra prints
		// the help of a command without Run and exits 0 for any argument.
		Args: func(_ *cobra.Command, args []string) error {
			if len(args) > 0 {
				return usageErr("unknown command %q for \"clawtrace hooks\": want install or uninstall", args[0])
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, _ []string) error { return cmd.Help() },
	}
	var stateDir, path string
	var content, allHooks bool
	var maxBytes int64
	var maxString, maxMessages int
	install := &cobra.Command{
		Use:   "install",
		Short: "Copy the recorder plugin into the state dir and enable it",
		Long: `install writes the plugin to <state>/extensions/clawtrace-hooks and enables
it, with conversation access, in <state>/openclaw.json. If the config is
JSON5 or uses $include, it is left alone and the snippet to add is printed.
Running it again changes nothing. Restart a running gateway afterwards.`,
		Example: `  clawtrace hooks install
  clawtrace hooks install --state-dir ~/.openclaw --content`,
		Args: noArgs("give the state dir with --state-dir and the hook dump file with --path"),
		RunE: func(cmd *cobra.Command, args []string) error {
			dir, config := stateDirOrDefault(stateDir)
			opts := plugin.InstallOptions{ConfigPath: config, Path: path, MaxBytes: maxBytes, MaxStringChars: maxString, MaxMessages: maxMessages}
			if cmd.Flags().Changed("content") {
				opts.Content = &content
			}
			if cmd.Flags().Changed("all-hooks") {
				opts.AllHooks = &allHooks
			}
			res, err := plugin.Install(dir, opts)
			if err != nil {
				return err
			}
			printHookResult(stdio.Out, "installed", res)
			return nil
		},
	}
	install.Flags().StringVar(&stateDir, "state-dir", "", "OpenClaw state dir (default: where OpenClaw looks — $OPENCLAW_STATE_DIR, else the folder of $OPENCLAW_CONFIG_PATH, else ~/.openclaw)")
	install.Flags().StringVar(&path, "path", "", "hook dump file (default <state>/clawtrace/hooks.jsonl)")
	install.Flags().BoolVar(&allHooks, "all-hooks", false, "record every OpenClaw hook, not only the ones clawtrace reads (some change OpenClaw's behaviour merely by being observed: see docs/capture.md)")
	install.Flags().BoolVar(&content, "content", false, "also record prompts, messages, tool parameters and results (off: only their sizes)")
	install.Flags().Int64Var(&maxBytes, "max-bytes", 0, "rotate the dump at this size (default 64 MiB)")
	install.Flags().IntVar(&maxString, "max-string-chars", 0, "cut strings longer than this (default 4096)")
	install.Flags().IntVar(&maxMessages, "max-messages", 0, "cap message arrays at this length (default 50)")

	uninstall := &cobra.Command{
		Use:   "uninstall",
		Short: "Remove the recorder plugin and disable it (hook dumps are kept)",
		Args:  noArgs("give the state dir with --state-dir"),
		RunE: func(cmd *cobra.Command, args []string) error {
			res, err := plugin.UninstallConfig(stateDirOrDefault(stateDir))
			if err != nil {
				return err
			}
			printHookResult(stdio.Out, "uninstalled", res)
			return nil
		},
	}
	uninstall.Flags().StringVar(&stateDir, "state-dir", "", "OpenClaw state dir (default: where OpenClaw looks — $OPENCLAW_STATE_DIR, else the folder of $OPENCLAW_CONFIG_PATH, else ~/.openclaw)")
	cmd.AddCommand(install, uninstall)
	return cmd
}

// noArgs rejects positional arguments with a usage error that ends with
// hint (how to say what the argument was probably meant for).
func noArgs(hint string) cobra.PositionalArgs {
	return func(cmd *cobra.Command, args []string) error {
		if len(args) > 0 {
			return usageErr("hooks %s takes no arguments, got %q: %s", cmd.Name(), args[0], hint)
		}
		return nil
	}
}

// stateDirOrDefault is --state-dir, else where OpenClaw itself looks
// (plugin.Locate), and the config file when $OPENCLAW_CONFIG_PATH names it.
func stateDirOrDefault(dir string) (string, string) {
	if dir != "" {
		return dir, ""
	}
	return plugin.Locate()
}

func printHookResult(w io.Writer, verb string, r plugin.Result) {
	if !r.Changed() && r.Snippet == "" {
		fmt.Fprintf(w, "clawtrace-hooks: already %s, nothing changed (%s)\n", verb, r.PluginDir)
	} else {
		fmt.Fprintf(w, "clawtrace-hooks: %s (%s)\n", verb, r.PluginDir)
	}
	for _, f := range r.FilesWritten {
		fmt.Fprintf(w, "  wrote   %s\n", f)
	}
	for _, f := range r.FilesRemoved {
		fmt.Fprintf(w, "  removed %s\n", f)
	}
	if r.ConfigChanged {
		fmt.Fprintf(w, "  updated %s\n", r.ConfigPath)
	}
	if r.Snippet != "" {
		fmt.Fprintf(w, "  %s was not edited; add this yourself:\n%s\n", r.ConfigPath, r.Snippet)
	}
	if r.DumpPath != "" {
		fmt.Fprintf(w, "  hook events will be written to %s\n", r.DumpPath)
	}
	for _, n := range r.Notes {
		fmt.Fprintf(w, "  note: %s\n", n)
	}
}
