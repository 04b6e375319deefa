package plugin

import (
	"os"
	"os/exec"
	"testing"
)

// TestNodePlugin runs the plugin's own node:test suite when node is
// installed (CI installs it; set CLAWTRACE_REQUIRE_NODE=1 to fail instead of
// skipping without it).
func TestNodePlugin(t *testing.T) {
	node, err := exec.LookPath("node")
	if err != nil {
		if os.Getenv("CLAWTRACE_REQUIRE_NODE") == "1" {
			t.Fatal("node not found")
		}
		t.Skip("node not installed")
	}
	out, err := exec.Command(node, "--test", "clawtrace-hooks/test/index.test.js").CombinedOutput()
	if err != nil {
		t.Fatalf("node --test failed: %v\n%s", err, out)
	}
	t.Logf("%s", out)
}
