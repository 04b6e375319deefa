package main

import (
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestUnreadableInput: a named path that does not exist fails the job
// (exit 1, a usage mistake), with or without --strict; an agent database
// that cannot be opened is a file found but unreadable: reported once,
// counted in the summary as a skipped file, exit 0 (3 with --strict). The
// rest is processed either way.
func TestUnreadableInput(t *testing.T) {
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
		name          string
		args          []string
		code          int
		want, summary string
	}{
		{"missing path", []string{"scan", "../../fixtures/corpus/openclaw-2026.9.6/02-one-tool", missing}, exitError, "no-such-dir", "1 input does not exist"},
		{"missing path, strict", []string{"report", "--strict", "../../fixtures/corpus/openclaw-2026.9.6/02-one-tool", missing}, exitError, "no-such-dir", "1 input does not exist"},
		{"corrupt database", []string{"reconstruct", corrupt, "../../fixtures/corpus/openclaw-2026.9.6/02-one-tool"}, exitOK, "openclaw-agent.sqlite", "skipped files: 1"},
		{"corrupt database, strict", []string{"reconstruct", "--strict", corrupt, "../../fixtures/corpus/openclaw-2026.9.6/02-one-tool"}, exitSkipped, "openclaw-agent.sqlite", "0 input lines and 1 file were skipped"},
	} {
		t.Run(c.name, func(t *testing.T) {
			code, out, errOut := run(t, c.args...)
			if code != c.code {
				t.Fatalf("exit %d, want %d; stderr:\n%s", code, c.code, errOut)
			}
			if strings.Count(errOut, c.want) != 1 {
				t.Errorf("stderr should name %s once:\n%s", c.want, errOut)
			}
			if !strings.Contains(errOut, c.summary) {
				t.Errorf("stderr lacks %q:\n%s", c.summary, errOut)
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
