package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestUnreadableInputFailsTheJob: a named path that does not exist, or an
// agent database that cannot be opened, is reported once, the rest is
// still processed, and the job exits 1 (docs: "the job failed (unreadable
// input …)"), with or without --strict.
func TestUnreadableInputFailsTheJob(t *testing.T) {
	const rec = "../../fixtures/corpus/openclaw-2026.9.6/06-retry"
	corrupt := filepath.Join(t.TempDir(), "rec")
	if err := os.CopyFS(corrupt, os.DirFS(rec)); err != nil {
		t.Fatal(err)
	}
	sessions, _ := filepath.Glob(filepath.Join(corrupt, "state", "agents", "main", "sessions", "s06*.jsonl"))
	for _, s := range sessions {
		os.Remove(s)
	}
	db := filepath.Join(corrupt, "state", "agents", "main", "agent", "openclaw-agent.sqlite")
	data, err := os.ReadFile(db)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(db, data[:8192], 0o644); err != nil {
		t.Fatal(err)
	}
	missing := filepath.Join(t.TempDir(), "no-such-dir")
	for _, c := range []struct {
		name string
		args []string
		want string
	}{
		{"missing path", []string{"scan", "../../fixtures/corpus/openclaw-2026.9.6/02-one-tool", missing}, "no-such-dir"},
		{"missing path, strict", []string{"report", "--strict", "../../fixtures/corpus/openclaw-2026.9.6/02-one-tool", missing}, "no-such-dir"},
		{"corrupt database", []string{"report", corrupt}, "openclaw-agent.sqlite"},
	} {
		t.Run(c.name, func(t *testing.T) {
			code, out, errOut := run(t, c.args...)
			if code != exitError {
				t.Fatalf("exit %d, want %d; stderr:\n%s", code, exitError, errOut)
			}
			if strings.Count(errOut, c.want) != 1 {
				t.Errorf("stderr should name %s once:\n%s", c.want, errOut)
			}
			if !strings.Contains(errOut, "1 input could not be read") {
				t.Errorf("stderr lacks the summary:\n%s", errOut)
			}
			if out == "" {
				t.Error("nothing written: the rest should still be processed")
			}
		})
	}
}
