package tracetest

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// Golden compares got with the golden file at path. With update it
// rewrites the file instead. On a mismatch it reports the path, the first
// differing line and byte, and rerun: the command that accepts the change.
func Golden(t testing.TB, path string, got []byte, update bool, rerun string) {
	t.Helper()
	if update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (to create it: %s)", err, rerun)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("output differs from %s at %s\nIf the change is intended: %s", path, FirstDiff(want, got), rerun)
	}
}

// FirstDiff describes the first line where want and got differ.
func FirstDiff(want, got []byte) string {
	wl, gl := bytes.Split(want, []byte("\n")), bytes.Split(got, []byte("\n"))
	for i := range max(len(wl), len(gl)) {
		var w, g []byte
		if i < len(wl) {
			w = wl[i]
		}
		if i < len(gl) {
			g = gl[i]
		}
		if bytes.Equal(w, g) {
			continue
		}
		j := 0
		for j < len(w) && j < len(g) && w[j] == g[j] {
			j++
		}
		from := max(j-80, 0)
		return fmt.Sprintf("line %d, byte %d:\n  want …%s\n  got  …%s", i+1, j, clip(w[from:], 240), clip(g[from:], 240))
	}
	return "(no difference)"
}

func clip(b []byte, n int) string {
	if len(b) > n {
		return string(b[:n]) + "…"
	}
	return string(b)
}

// ForkedStateDir writes a state dir holding session s1 with one priced LLM
// call and s9, a /fork copy of it (same entry ids, times and usage; with
// parentHeader its header names s1 as its parent), and returns the dir.
func ForkedStateDir(t testing.TB, parentHeader bool) string {
	t.Helper()
	dir := t.TempDir()
	sd := filepath.Join(dir, "agents", "main", "sessions")
	if err := os.MkdirAll(sd, 0o755); err != nil {
		t.Fatal(err)
	}
	session := `{"type":"session","version":3,"id":"s1","timestamp":"2026-06-01T09:00:00.000Z"}
{"type":"message","id":"e1","parentId":null,"timestamp":"2026-06-01T09:00:01.000Z","message":{"role":"user","content":"hi","timestamp":1780304400900}}
{"type":"message","id":"e2","parentId":"e1","timestamp":"2026-06-01T09:00:03.000Z","message":{"role":"assistant","content":[],"provider":"p","model":"m","usage":{"input":10,"output":2,"cost":{"total":0.5}},"stopReason":"stop","timestamp":1780304401100}}
`
	fork := `"id":"s9"`
	if parentHeader {
		fork = `"id":"s9","parentSession":"s1"`
	}
	for name, body := range map[string]string{"s1.jsonl": session, "s9.jsonl": strings.ReplaceAll(session, `"id":"s1"`, fork)} {
		if err := os.WriteFile(filepath.Join(sd, name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}
