package main

import (
	"fmt"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/parquet-go/parquet-go"

	"github.com/clawtrace/clawtrace/reconstruct/tracetest"
	"github.com/clawtrace/clawtrace/report"
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

// TestShardForkFamilies: a /fork copy whose header names its parent lands
// in its parent's shard, so the shards' report totals add up to the
// unsharded ones (the copied calls counted once).
func TestShardForkFamilies(t *testing.T) {
	dir := tracetest.ForkedStateDir(t, true)
	total := func(args ...string) (in, calls int) {
		code, out, errs := run(t, append(append([]string{"report", "-q", "--format", "csv"}, args...), dir)...)
		if code != 0 {
			t.Fatalf("exit %d: %s", code, errs)
		}
		for _, l := range strings.Split(out, "\n") {
			if strings.HasPrefix(l, "(total),") {
				f := strings.Split(l, ",")
				calls, _ = strconv.Atoi(f[1])
				in, _ = strconv.Atoi(f[4])
			}
		}
		return
	}
	wantIn, wantCalls := total()
	for _, n := range []int{2, 3, 5} {
		in, calls := 0, 0
		for k := 1; k <= n; k++ {
			i, c := total("--shard", fmt.Sprintf("%d/%d", k, n))
			in, calls = in+i, calls+c
		}
		if in != wantIn || calls != wantCalls {
			t.Errorf("N=%d: shards sum to %d input tokens in %d calls, unsharded %d in %d", n, in, calls, wantIn, wantCalls)
		}
	}
}

// TestShardsShareAParquetDir: shards writing --partition day into one
// directory keep each other's files (their names carry the shard), and
// the union has every span of the unsharded dataset. A filtered run into
// an existing dataset is refused instead of replacing whole dates.
func TestShardsShareAParquetDir(t *testing.T) {
	in := "../../fixtures/corpus/openclaw-2026.9.6"
	count := func(dir string) int {
		files, _ := filepath.Glob(filepath.Join(dir, "date=*", "*.parquet"))
		n := 0
		for _, f := range files {
			pf, err := parquet.ReadFile[report.SpanRow](f)
			if err != nil {
				t.Fatal(err)
			}
			n += len(pf)
		}
		return n
	}
	all, shared := t.TempDir(), t.TempDir()
	if code, _, errs := run(t, "reconstruct", "-q", "-f", "parquet", "--partition", "day", "-o", all, in); code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	for k := 1; k <= 3; k++ {
		if code, _, errs := run(t, "reconstruct", "-q", "-f", "parquet", "--partition", "day", "--shard", fmt.Sprintf("%d/3", k), "-o", shared, in); code != 0 {
			t.Fatalf("shard %d: exit %d: %s", k, code, errs)
		}
	}
	if a, s := count(all), count(shared); a == 0 || a != s {
		t.Errorf("shards in one dir hold %d spans, the unsharded dataset %d", s, a)
	}
	if code, _, errs := run(t, "reconstruct", "-q", "-f", "parquet", "--partition", "day", "--session", "s02", "-o", all, in); code != exitUsage || !strings.Contains(errs, "would replace whole dates") {
		t.Errorf("filtered run into an existing dataset: exit %d, %s", code, errs)
	}
}
