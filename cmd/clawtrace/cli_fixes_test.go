package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// brokenTranscript writes a copy of a fixture transcript with one junk line
// in the middle to dir and returns its path.
func brokenTranscript(t *testing.T, dir string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(fixtureDir, "02-one-tool", "state", "agents", "main", "sessions", "s02.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	lines := bytes.SplitAfter(b, []byte("\n"))
	mid := len(lines) / 2
	var out []byte
	for i, l := range lines {
		if i == mid {
			out = append(out, "{junk\n"...)
		}
		out = append(out, l...)
	}
	path := filepath.Join(dir, "broken.jsonl")
	if err := os.WriteFile(path, out, 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// TestSkippedSummary: commands whose output is not a summary of their own
// say on stderr how many lines were skipped, unless -q.
func TestSkippedSummary(t *testing.T) {
	dir := t.TempDir()
	in := brokenTranscript(t, dir)
	srv := newOTLPServer(t, nil)
	const want = "skipped lines: 1; invalid JSON: 1\n"
	for _, args := range [][]string{
		{"reconstruct", "-o", filepath.Join(dir, "o.jsonl")},
		{"reconstruct"},
		{"reconstruct", "-f", "parquet", "-o", filepath.Join(dir, "spans")},
		{"html", "-o", filepath.Join(dir, "o.html")},
		{"html"},
		{"show"},
		{"export", "--endpoint", srv.URL, "--header", "X-Tenant=t1"},
	} {
		code, stdout, stderr := run(t, append(args, in)...)
		if code != exitOK || !strings.Contains(stderr, want) || strings.Contains(stdout, "skipped lines") {
			t.Errorf("%v: exit %d, stderr %q; want 0 and %q on stderr only", args, code, stderr, want)
		}
		code, _, stderr = run(t, append(append(args, "-q"), in)...)
		if code != exitOK || strings.Contains(stderr, "skipped") {
			t.Errorf("%v -q: exit %d, stderr %q; want 0 and no skipped lines", args, code, stderr)
		}
	}
	// Nothing when no line was skipped.
	if code, _, stderr := run(t, append([]string{"show"}, fixtureArgs("02-one-tool")...)...); code != exitOK || strings.Contains(stderr, "skipped") {
		t.Errorf("clean input: exit %d, stderr %q", code, stderr)
	}
}

// TestOutputIsInput: no command overwrites one of its inputs.
func TestOutputIsInput(t *testing.T) {
	dir := t.TempDir()
	state := filepath.Join(dir, "state")
	src := filepath.Join(fixtureDir, "02-one-tool", "state", "agents", "main", "sessions")
	sessions := filepath.Join(state, "agents", "main", "sessions")
	if err := os.MkdirAll(sessions, 0o755); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"s02.jsonl", "sessions.json"} {
		b, err := os.ReadFile(filepath.Join(src, name))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(sessions, name), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	transcript := filepath.Join(sessions, "s02.jsonl")
	index := filepath.Join(sessions, "sessions.json")
	before, _ := os.ReadFile(transcript)
	baseline := filepath.Join(dir, "baseline.json")
	if code, _, errs := run(t, "baseline", "-q", state, "-o", baseline); code != exitOK {
		t.Fatalf("baseline: exit %d: %s", code, errs)
	}
	for _, c := range []struct {
		args     []string
		out, inp string // named in the message
	}{
		// The very file given as input.
		{[]string{"reconstruct", transcript, "-o", transcript}, transcript, transcript},
		{[]string{"report", transcript, "-o", transcript}, transcript, transcript},
		{[]string{"html", transcript, "-o", transcript}, transcript, transcript},
		{[]string{"baseline", transcript, "-o", transcript}, transcript, transcript},
		{[]string{"reconstruct", "--hooks", transcript, state, "-o", transcript}, transcript, transcript},
		// Through another spelling of the path.
		{[]string{"reconstruct", transcript, "-o", filepath.Join(sessions, "..", "sessions", "s02.jsonl")}, "s02.jsonl", transcript},
		// A file discovery reads under an input directory.
		{[]string{"reconstruct", state, "-o", transcript}, transcript, transcript},
		{[]string{"report", state, "-o", index}, index, index},
		{[]string{"html", state, "-o", transcript}, transcript, transcript},
		{[]string{"baseline", state, "-o", transcript}, transcript, transcript},
		// An input directory as the output.
		{[]string{"reconstruct", "-f", "parquet", state, "-o", state}, state, state},
		// Other files read: the baseline of check, the pricing of report.
		{[]string{"check", "--baseline", baseline, state, "--junit", baseline}, baseline, baseline},
		{[]string{"report", "--pricing", baseline, state, "-o", baseline}, baseline, baseline},
	} {
		code, _, stderr := run(t, append(c.args, "-q")...)
		if code != exitUsage || !strings.Contains(stderr, c.out+" is the input") || !strings.Contains(stderr, c.inp+":") {
			t.Errorf("%v: exit %d, stderr %q; want a usage error naming %s and %s", c.args, code, stderr, c.out, c.inp)
		}
	}
	if after, _ := os.ReadFile(transcript); !bytes.Equal(after, before) {
		t.Errorf("an input was overwritten")
	}
	assertOnlyFile(t, sessions, "s02.jsonl", "sessions.json")

	// An output in an input directory that discovery does not read is fine,
	// also on the second run.
	out := filepath.Join(state, "traces.jsonl")
	for i := 0; i < 2; i++ {
		if code, _, errs := run(t, "reconstruct", "-q", state, "-o", out); code != exitOK {
			t.Errorf("run %d: exit %d: %s", i, code, errs)
		}
	}
}

// TestHooksArgs: hooks and its subcommands take no positional arguments.
func TestHooksArgs(t *testing.T) {
	t.Setenv("OPENCLAW_STATE_DIR", t.TempDir())
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"hooks", "bogus"}, `unknown command "bogus" for "clawtrace hooks"`},
		{[]string{"hooks", "install", "some/path"}, `hooks install takes no arguments, got "some/path"`},
		{[]string{"hooks", "uninstall", "some/path"}, `hooks uninstall takes no arguments, got "some/path"`},
	} {
		code, stdout, stderr := run(t, c.args...)
		if code != exitUsage || !strings.Contains(stderr, c.want) || stdout != "" {
			t.Errorf("%v: exit %d, stdout %q, stderr %q; want exit %d and %q", c.args, code, stdout, stderr, exitUsage, c.want)
		}
	}
	if code, stdout, _ := run(t, "hooks"); code != exitOK || !strings.Contains(stdout, "clawtrace hooks [command]") {
		t.Errorf("hooks: exit %d, stdout %q; want the help", code, stdout)
	}
}

// TestHTMLContentRedact: html --redact masks content as reconstruct's does
// and needs --content.
func TestHTMLContentRedact(t *testing.T) {
	in := fixtureArgs("10-subagent")
	code, plain, stderr := run(t, append([]string{"html", "--content"}, in...)...)
	if code != exitOK || !strings.Contains(plain, "child.txt") {
		t.Fatalf("--content: exit %d, %s; want the text child.txt in the page", code, stderr)
	}
	code, out, stderr := run(t, append([]string{"html", "--content", "--redact", `child\.txt`}, in...)...)
	if code != exitOK || strings.Contains(out, "child.txt") || !strings.Contains(out, "[REDACTED]") {
		t.Errorf("--redact: exit %d, %s; want child.txt replaced by [REDACTED]", code, stderr)
	}
	for _, c := range []struct {
		args []string
		msg  string
	}{
		{[]string{"--redact", "("}, "--redact: error parsing regexp"},
		{[]string{"--content", "--redact", "("}, "--redact: error parsing regexp"},
	} {
		code, _, stderr := run(t, append(append([]string{"html"}, c.args...), in...)...)
		if code != exitUsage || !strings.Contains(stderr, c.msg) {
			t.Errorf("%v: exit %d, stderr %q; want %d and %q", c.args, code, stderr, exitUsage, c.msg)
		}
	}
}
