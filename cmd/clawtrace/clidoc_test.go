package main

import (
	"bytes"
	"testing"
)

// TestCLIReference keeps docs/cli.md equal to the command tree.
func TestCLIReference(t *testing.T) {
	var b bytes.Buffer
	if err := writeCLIReference(&b, newRootCmd(IO{})); err != nil {
		t.Fatal(err)
	}
	golden(t, "../../docs/cli.md", b.Bytes())
}
