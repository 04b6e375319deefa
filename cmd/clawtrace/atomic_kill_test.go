package main

import (
	"bytes"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"
)

// killTestEnv enables TestKilledRunLeavesNoPartialOutput: it builds the
// binary, generates a 30 MB corpus and runs each output command some 20
// times (1–2 minutes on 2 busy cores), too slow for every `go test ./...`.
const killTestEnv = "CLAWTRACE_KILL_TEST"

// TestKilledRunLeavesNoPartialOutput SIGKILLs clawtrace at several moments
// while it writes each kind of output, over an older output and over none:
// the destination must hold the old bytes (or nothing) or the complete new
// bytes, never part of a file; a run afterwards must write exactly what an
// uninterrupted run writes and leave no temporary file behind.
//
//	CLAWTRACE_KILL_TEST=1 go test ./cmd/clawtrace -run TestKilledRunLeavesNoPartialOutput -v
func TestKilledRunLeavesNoPartialOutput(t *testing.T) {
	if os.Getenv(killTestEnv) == "" || testing.Short() {
		t.Skipf("slow (1–2 min): set %s=1 to run", killTestEnv)
	}
	tmp := t.TempDir()
	bin := filepath.Join(tmp, "clawtrace")
	gen := filepath.Join(tmp, "gen")
	for _, b := range [][]string{{"-o", bin, "."}, {"-o", gen, "../../fixtures/gen"}} {
		if out, err := exec.Command("go", append([]string{"build"}, b...)...).CombinedOutput(); err != nil {
			t.Fatalf("go build %v: %v\n%s", b, err, out)
		}
	}
	corpus := filepath.Join(tmp, "corpus")
	if out, err := exec.Command(gen, "-size", "30MB", "-seed", "1", "-o", corpus).CombinedOutput(); err != nil {
		t.Fatalf("gen: %v\n%s", err, out)
	}
	oldInput, err := filepath.Abs("../../fixtures/corpus/openclaw-2026.9.6/06-retry")
	if err != nil {
		t.Fatal(err)
	}

	kinds := []struct {
		name string
		args []string // the output flag's value is appended
		// dir is the destination as named on the command line relative to
		// the kind's directory; file is the output file in it.
		dest, file string
	}{
		{"otlp-json", []string{"reconstruct", "-f", "otlp-json", "-o"}, "out/traces.jsonl", "traces.jsonl"},
		{"parquet", []string{"reconstruct", "-f", "parquet", "-o"}, "out", "spans.parquet"},
		{"baseline", []string{"baseline", "-o"}, "out/baseline.json", "baseline.json"},
		{"view", []string{"view", "-o"}, "out/view.html", "view.html"},
	}
	fracs := []float64{0.15, 0.45, 0.75, 1.0}
	for _, k := range kinds {
		t.Run(k.name, func(t *testing.T) {
			work := filepath.Join(tmp, k.name)
			outDir := filepath.Join(work, "out")
			outFile := filepath.Join(outDir, k.file)
			command := func(input string) *exec.Cmd {
				c := exec.Command(bin, append(slices.Clone(k.args), k.dest, input)...)
				c.Dir = work
				return c
			}
			runOK := func(input string) time.Duration {
				t.Helper()
				start := time.Now()
				if out, err := command(input).CombinedOutput(); err != nil {
					t.Fatalf("%v: %v\n%s", k.args, err, out)
				}
				return time.Since(start)
			}
			reset := func(old []byte) {
				t.Helper()
				if err := os.RemoveAll(outDir); err != nil {
					t.Fatal(err)
				}
				// No destination: no file in an existing directory, or no
				// directory at all for Parquet (which creates it).
				if old != nil || k.dest != "out" {
					os.MkdirAll(outDir, 0o755)
				}
				if old != nil {
					if err := os.WriteFile(outFile, old, 0o644); err != nil {
						t.Fatal(err)
					}
				}
			}
			os.MkdirAll(outDir, 0o755)
			// The older output, from other inputs.
			runOK(oldInput)
			old := readOrNil(t, outFile)
			if old == nil {
				t.Fatal("no older output")
			}
			reset(nil)
			d := runOK(corpus)
			want := readOrNil(t, outFile)
			reset(old)
			if d2 := runOK(corpus); d2 > d {
				d = d2
			}
			if got := readOrNil(t, outFile); !bytes.Equal(got, want) {
				t.Fatal("the output over an older one differs from the output into nothing")
			}
			t.Logf("an uninterrupted run takes %v, writes %d bytes", d.Round(time.Millisecond), len(want))

			midWrite := 0
			for _, prior := range [][]byte{nil, old} {
				for _, f := range fracs {
					reset(prior)
					c := command(corpus)
					if err := c.Start(); err != nil {
						t.Fatal(err)
					}
					time.Sleep(time.Duration(f * float64(d)))
					c.Process.Signal(syscall.SIGKILL)
					c.Wait()
					got := readOrNil(t, outFile)
					switch {
					case got == nil && prior == nil, bytes.Equal(got, prior), bytes.Equal(got, want):
					default:
						t.Errorf("killed at %.0f%% over %s: the destination holds %d bytes, neither the old (%d) nor the new (%d) output",
							100*f, describe(prior), len(got), len(prior), len(want))
					}
					temps := strays(t, outDir, k.file)
					for _, name := range temps {
						if !strings.HasPrefix(name, ".") {
							t.Errorf("killed at %.0f%%: a visible stray file %s", 100*f, name)
						}
					}
					if len(temps) > 0 {
						midWrite++
					}
					// The next run replaces whatever the killed one left.
					runOK(corpus)
					if got := readOrNil(t, outFile); !bytes.Equal(got, want) {
						t.Errorf("killed at %.0f%% over %s: the run afterwards wrote %d bytes, not the %d of an uninterrupted run", 100*f, describe(prior), len(got), len(want))
					}
					if left := strays(t, outDir, k.file); len(left) > 0 {
						t.Errorf("killed at %.0f%% over %s: the run afterwards left %v in the destination directory", 100*f, describe(prior), left)
					}
				}
			}
			t.Logf("%d of %d kills left a temporary file (killed mid-write)", midWrite, 2*len(fracs))
			if midWrite == 0 && k.name != "baseline" { // baseline writes 45 kB at the very end
				t.Error("no kill landed while the output was being written: the test did not test anything")
			}
		})
	}
}

func describe(prior []byte) string {
	if prior == nil {
		return "no output"
	}
	return "an older output"
}

// readOrNil returns the file's bytes, nil when it does not exist.
func readOrNil(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		t.Fatal(err)
	}
	if b == nil {
		b = []byte{}
	}
	return b
}

// strays lists the entries of dir other than the output file.
func strays(t *testing.T, dir, file string) []string {
	t.Helper()
	ents, err := os.ReadDir(dir)
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		t.Fatal(err)
	}
	var out []string
	for _, e := range ents {
		if e.Name() != file {
			out = append(out, e.Name())
		}
	}
	return out
}

// TestAtomicWriteRemovesStaleTemps: the temporary file of a killed write
// (older than this write) is removed once this write succeeds; one still
// being written to, and files that only look alike, are left alone.
func TestAtomicWriteRemovesStaleTemps(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "out.json")
	files := map[string]time.Duration{
		".out.json.tmp-123":    -time.Hour,  // a killed run's
		".out.json.tmp-456":    time.Minute, // a concurrent run, writing
		".out.json.tmp-backup": -time.Hour,  // not ours
		".other.json.tmp-789":  -time.Hour,  // another output's
	}
	for name, age := range files {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte("partial"), 0o644); err != nil {
			t.Fatal(err)
		}
		when := time.Now().Add(age)
		if err := os.Chtimes(p, when, when); err != nil {
			t.Fatal(err)
		}
	}
	if err := atomicWrite(path, func(w io.Writer) error { _, err := io.WriteString(w, "new"); return err }); err != nil {
		t.Fatal(err)
	}
	got := strays(t, dir, "out.json")
	want := []string{".other.json.tmp-789", ".out.json.tmp-456", ".out.json.tmp-backup"}
	if !slices.Equal(got, want) {
		t.Errorf("left %v, want %v", got, want)
	}
	if b, _ := os.ReadFile(path); string(b) != "new" {
		t.Errorf("wrote %q", b)
	}
}
