package main

import (
	"path/filepath"
	"strings"
	"testing"
)

// TestFixtureGoldens runs the commands a user runs on every recorded
// scenario (with its hook dump) and compares the output bytes with
// testdata/golden: the report JSON by model and tool, and the text
// waterfall with evidence. go test ./cmd/clawtrace -run FixtureGoldens
// -update rewrites them. (OTLP goldens: report/testdata/golden/otlp.)
func TestFixtureGoldens(t *testing.T) {
	dirs, _ := filepath.Glob("../../fixtures/corpus/*/*")
	if len(dirs) < 30 {
		t.Fatalf("fixtures: %d scenarios", len(dirs))
	}
	cases := []struct {
		name string
		args []string
		ext  string
	}{
		{"report", []string{"report", "-q", "--format", "json", "--by", "model,tool"}, "json"},
		{"show", []string{"show", "-q", "--evidence"}, "txt"},
	}
	for _, d := range dirs {
		name := filepath.Base(filepath.Dir(d)) + "_" + filepath.Base(d)
		for _, c := range cases {
			t.Run(c.name+"/"+name, func(t *testing.T) {
				code, out, errs := run(t, append(append([]string(nil), c.args...), d)...)
				if code != 0 {
					t.Fatalf("exit %d: %s", code, errs)
				}
				if root, _ := filepath.Abs("../.."); strings.Contains(out, root) {
					t.Errorf("absolute path of the checkout in output")
				}
				golden(t, filepath.Join("testdata", "golden", c.name, name+"."+c.ext), []byte(out))
			})
		}
	}
}
