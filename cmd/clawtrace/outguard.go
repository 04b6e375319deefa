package main

import (
	"os"
	"path/filepath"

	"github.com/clawtrace/clawtrace/ingest"
)

// inputPaths returns the paths a command reads for args and f: the paths
// given, or the default state dirs, plus the --hooks files. It mirrors
// openPipeline.
func inputPaths(args []string, f *inputFlags) []string {
	if len(args) == 0 {
		return append(ingest.DefaultStateDirs(), f.hooks...)
	}
	return append(append([]string(nil), args...), f.hooks...)
}

// outputIsInput returns a usage error when the output out of flag (e.g.
// "--output") is one of the inputs, so that writing it would replace or
// clobber what is being read: the same file or directory as an input path,
// or, when inv is not nil, a file that discovery read under an input
// directory (same name and same file, so links and relative paths are
// seen through). An output that does not exist yet, one that is neither a
// file nor a directory (/dev/stdout), "" and "-" (stdout) are never
// inputs. Call it before openPipeline with inv nil, and after it with the
// corpus inventory.
func outputIsInput(flag, out string, inputs []string, inv *ingest.Inventory) error {
	if out == "" || out == "-" {
		return nil
	}
	ost, err := os.Stat(out)
	if err != nil || !(ost.Mode().IsRegular() || ost.IsDir()) {
		return nil // not there yet, or a device such as /dev/stdout
	}
	for _, in := range inputs {
		if in == "-" {
			continue
		}
		if st, err := os.Stat(in); err == nil && os.SameFile(ost, st) {
			return usageErr("%s %s is the input %s: clawtrace never writes to its inputs", flag, out, in)
		}
	}
	if inv == nil || !ost.Mode().IsRegular() {
		return nil
	}
	base := filepath.Base(out)
	check := func(path string) error {
		if path == "" || path == "-" || filepath.Base(path) != base {
			return nil
		}
		if st, err := os.Stat(path); err == nil && os.SameFile(ost, st) {
			return usageErr("%s %s is the input file %s: clawtrace never writes to its inputs", flag, out, path)
		}
		return nil
	}
	for _, t := range inv.Transcripts {
		if err := check(t.Path); err != nil {
			return err
		}
	}
	for _, refs := range [][]ingest.FileRef{inv.Indexes, inv.Databases, inv.Hooks, inv.Trajectories, inv.Timelines} {
		for _, r := range refs {
			if err := check(r.Path); err != nil {
				return err
			}
		}
	}
	return nil
}
