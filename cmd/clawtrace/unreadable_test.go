package main

import (
	"io"
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

// TestSessionFilterAndWorkers: a short id prefix selects its sessions; a
// filter that matches nothing says so; a negative --workers is a usage
// error.
func TestSessionFilterAndWorkers(t *testing.T) {
	const corpus = "../../fixtures/corpus/openclaw-2026.9.6"
	code, out, _ := run(t, "scan", "--json", "--session", "s1", corpus)
	if code != 0 || !strings.Contains(out, `"sessions": 6`) {
		t.Errorf("--session s1: exit %d, want the 6 sessions s10…s17:\n%s", code, out)
	}
	code, _, errOut := run(t, "scan", "--session", "zz", corpus)
	if code != 0 || !strings.Contains(errOut, "no session matched") {
		t.Errorf("--session zz: exit %d, stderr %q", code, errOut)
	}
	if code, _, _ := run(t, "scan", "--workers", "-3", corpus); code != exitUsage {
		t.Errorf("--workers -3: exit %d, want %d", code, exitUsage)
	}
}

// TestAtomicWriteThroughSymlink: an output that is a symlink keeps being a
// symlink; its target gets the new content.
func TestAtomicWriteThroughSymlink(t *testing.T) {
	dir := t.TempDir()
	target := filepath.Join(dir, "real.txt")
	link := filepath.Join(dir, "link.txt")
	if err := os.WriteFile(target, []byte("old"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(target, link); err != nil {
		t.Skip(err)
	}
	if err := atomicWrite(link, func(w io.Writer) error { _, err := io.WriteString(w, "new"); return err }); err != nil {
		t.Fatal(err)
	}
	if st, err := os.Lstat(link); err != nil || st.Mode()&os.ModeSymlink == 0 {
		t.Errorf("link replaced by a file: %v %v", st.Mode(), err)
	}
	if b, _ := os.ReadFile(target); string(b) != "new" {
		t.Errorf("target holds %q", b)
	}
}
