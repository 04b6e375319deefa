package main

import (
	"fmt"
	"slices"
	"strings"
	"testing"
)

// TestShardUnion: the union of the outputs of --shard 1/N … N/N equals the
// unsharded output, for several N, and the shards are disjoint.
func TestShardUnion(t *testing.T) {
	in := []string{"../../fixtures/corpus/openclaw-2026.9.6/10-subagent", "../../fixtures/corpus/openclaw-2026.9.6/11-compaction",
		"../../fixtures/corpus/openclaw-2026.9.6/04-parallel", "../../fixtures/corpus/openclaw-2026.9.6/07-multi-run"}
	lines := func(args ...string) []string {
		code, out, errs := run(t, append(append([]string{"reconstruct", "-q"}, args...), in...)...)
		if code != 0 {
			t.Fatalf("exit %d: %s", code, errs)
		}
		ls := strings.Split(strings.TrimSpace(out), "\n")
		slices.Sort(ls)
		return ls
	}
	all := lines()
	if len(all) < 5 {
		t.Fatalf("only %d sessions", len(all))
	}
	for _, n := range []int{2, 3, 7} {
		var union []string
		for k := 1; k <= n; k++ {
			got := lines("--shard", fmt.Sprintf("%d/%d", k, n))
			if len(got) == 1 && got[0] == "" {
				got = nil // an empty shard
			}
			union = append(union, got...)
		}
		slices.Sort(union)
		if !slices.Equal(union, all) {
			t.Errorf("N=%d: union of shards (%d lines) differs from unsharded output (%d lines)", n, len(union), len(all))
		}
	}
}
