package main

import (
	"bytes"
	"context"
	"encoding/json"
	"encoding/xml"
	"flag"
	"github.com/clawtrace/clawtrace/reconstruct/tracetest"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
)

var updateWorsened = flag.Bool("update-worsened", false, "rewrite fixtures/worsened from fixtures/corpus")

const (
	// worsenedSource is the fixture the worsened copies are made from.
	worsenedSource = "../../fixtures/corpus/openclaw-2026.7.35/02-one-tool"
	worsenedDir    = "../../fixtures/worsened"
	// worsenedJSONL is the session transcript inside a state dir.
	worsenedJSONL = "agents/main/sessions/s02.jsonl"
	// checkCorpusDir holds the scenarios fixtures/baseline.json covers.
	checkCorpusDir = "../../fixtures/corpus/openclaw-2026.9.6"
)

// runCheckCLI runs clawtrace with the GitHub Actions variables cleared (so
// that a test run inside Actions writes no annotations or summary), unless
// env sets them.
func runCheckCLI(t *testing.T, env map[string]string, args ...string) (int, string, string) {
	t.Helper()
	for _, k := range []string{"GITHUB_ACTIONS", "GITHUB_STEP_SUMMARY"} {
		t.Setenv(k, env[k])
	}
	var out, errb bytes.Buffer
	code := Main(context.Background(), args, IO{In: strings.NewReader(""), Out: &out, Err: &errb})
	return code, out.String(), errb.String()
}

// checkFixtureInputs returns the state dir and hook dump of every scenario
// of a corpus version folder, in name order.
func checkFixtureInputs(t *testing.T, dir string, only ...string) []string {
	t.Helper()
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var args []string
	for _, e := range ents {
		if !e.IsDir() || len(only) > 0 && !slices.Contains(only, e.Name()) {
			continue
		}
		args = append(args, filepath.Join(dir, e.Name(), "state"), filepath.Join(dir, e.Name(), "hooks.jsonl"))
	}
	if len(args) == 0 {
		t.Fatalf("no scenarios in %s", dir)
	}
	return args
}

func checkCopyTree(t *testing.T, src, dst string) {
	t.Helper()
	err := filepath.WalkDir(src, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, p)
		target := filepath.Join(dst, rel)
		if d.IsDir() {
			return os.MkdirAll(target, 0o755)
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		return os.WriteFile(target, data, 0o644)
	})
	if err != nil {
		t.Fatal(err)
	}
}

// checkExtraToolLoop appends one more tool loop to the s02 transcript: an
// assistant message calling read, its tool result and a final answer, with
// usage and cost priced like the recorded calls (input $1/M, output $2/M,
// cache read $0.1/M).
func checkExtraToolLoop(jsonl []byte) []byte {
	const more = `{"type":"message","id":"e7a10001","parentId":"9e61f838","timestamp":"2026-11-25T21:15:34.512Z","message":{"role":"assistant","content":[{"type":"text","text":"Let me double-check the file."},{"type":"toolCall","id":"call_s02_read2","name":"read","arguments":{"path":"notes.txt"},"partialArgs":"{\"path\":\"notes.txt\"}"}],"api":"openai-completions","provider":"mock","model":"mock-a","usage":{"input":220,"output":18,"cacheRead":1600,"cacheWrite":0,"totalTokens":1838,"cost":{"input":0.00022,"output":0.000036,"cacheRead":0.00016,"cacheWrite":0,"total":0.000416}},"stopReason":"toolUse","timestamp":1795641334300,"responseId":"chatcmpl-mock-3"}}
{"type":"message","id":"e7a10002","parentId":"e7a10001","timestamp":"2026-11-25T21:15:34.540Z","message":{"role":"toolResult","toolCallId":"call_s02_read2","toolName":"read","content":[{"type":"text","text":"alpha\nbeta\ngamma\n"}],"isError":false,"timestamp":1795641334539}}
{"type":"message","id":"e7a10003","parentId":"e7a10002","timestamp":"2026-11-25T21:15:34.790Z","message":{"role":"assistant","content":[{"type":"text","text":"Confirmed: notes.txt contains alpha, beta and gamma."}],"api":"openai-completions","provider":"mock","model":"mock-a","usage":{"input":240,"output":14,"cacheRead":1620,"cacheWrite":0,"totalTokens":1874,"cost":{"input":0.00024,"output":0.000028,"cacheRead":0.000162,"cacheWrite":0,"total":0.00043}},"stopReason":"stop","timestamp":1795641334545,"responseId":"chatcmpl-mock-4"}}
`
	out := bytes.TrimRight(jsonl, "\n")
	return append(append(out, '\n'), more...)
}

var (
	checkModelRE      = regexp.MustCompile(`"(model|modelId)":"mock-a"`)
	checkCostObjectRE = regexp.MustCompile(`"cost":\{[^{}]*\}`)
	checkCostFieldRE  = regexp.MustCompile(`"(\w+)":(-?[0-9][0-9.eE+-]*)`)
)

// checkPricierModel renames the model mock-a to mock-a-pro and triples every
// recorded cost, leaving tokens and everything else as they were.
func checkPricierModel(jsonl []byte) []byte {
	out := checkModelRE.ReplaceAll(jsonl, []byte(`"$1":"mock-a-pro"`))
	return checkCostObjectRE.ReplaceAllFunc(out, func(obj []byte) []byte {
		return checkCostFieldRE.ReplaceAllFunc(obj, func(f []byte) []byte {
			m := checkCostFieldRE.FindSubmatch(f)
			v, err := strconv.ParseFloat(string(m[2]), 64)
			if err != nil {
				panic(err)
			}
			// 12 significant digits hide the float noise of v*3.
			r, _ := strconv.ParseFloat(strconv.FormatFloat(v*3, 'g', 12, 64), 64)
			return []byte(`"` + string(m[1]) + `":` + strconv.FormatFloat(r, 'f', -1, 64))
		})
	})
}

// checkWorsenedCopy copies the state dir of worsenedSource into a temp dir,
// applies worsen to its session transcript and returns the state dir. The
// result must equal the committed copy under fixtures/worsened/<name>
// (-update-worsened rewrites it).
func checkWorsenedCopy(t *testing.T, name string, worsen func([]byte) []byte) string {
	t.Helper()
	state := filepath.Join(t.TempDir(), "state")
	checkCopyTree(t, filepath.Join(worsenedSource, "state"), state)
	p := filepath.Join(state, worsenedJSONL)
	orig, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	worse := worsen(orig)
	if bytes.Equal(worse, orig) {
		t.Fatalf("%s: the transcript did not change", name)
	}
	if err := os.WriteFile(p, worse, 0o644); err != nil {
		t.Fatal(err)
	}
	committed := filepath.Join(worsenedDir, name, "state", worsenedJSONL)
	if *updateWorsened {
		if err := os.MkdirAll(filepath.Dir(committed), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(committed, worse, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if got, err := os.ReadFile(committed); err != nil || !bytes.Equal(got, worse) {
		t.Errorf("%s differs from what the test makes (err %v): go test ./cmd/clawtrace -run Worsened -update-worsened", committed, err)
	}
	return state
}

var checkSpacesRE = regexp.MustCompile(` {2,}`)

// checkSqueeze collapses runs of spaces, so table rows can be matched without
// their padding.
func checkSqueeze(s string) string { return checkSpacesRE.ReplaceAllString(s, " ") }

func checkWriteFile(t *testing.T, name, content string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestNewCmdCheck(t *testing.T) {
	dir := t.TempDir()
	good := filepath.Join(dir, "good.json")
	if code, _, stderr := runCheckCLI(t, nil, append([]string{"baseline", "-o", good}, checkFixtureInputs(t, checkCorpusDir, "01-plain")...)...); code != exitOK {
		t.Fatalf("baseline: exit %d: %s", code, stderr)
	}
	malformed := checkWriteFile(t, "bad.json", "{\n  \"schema_version\": 1,\n  \"scenarios\": {,}\n}\n")
	newer := checkWriteFile(t, "newer.json", `{"schema_version": 9, "scenarios": {}}`)
	badTh := checkWriteFile(t, "badth.json", `{"schema_version": 1, "thresholds": {"max_cost_increase": "ten"}, "scenarios": {"a": {"runs": 1}}}`)
	badMap := checkWriteFile(t, "map.json", `{"a": []}`)
	in := checkFixtureInputs(t, checkCorpusDir, "01-plain")
	for _, c := range []struct {
		args []string
		code int
		msg  string
	}{
		{[]string{"check"}, exitUsage, "--baseline is required"},
		{[]string{"check", "--baseline", good, "--max-cost-increase", "10 %%"}, exitUsage, `--max-cost-increase: bad limit "10 %%"`},
		{[]string{"check", "--baseline", good, "--max-calls-increase", "-1"}, exitUsage, "must not be negative"},
		{[]string{"check", "--baseline", good, "--max-duration-increase", "soon"}, exitUsage, `--max-duration-increase: bad limit "soon"`},
		{[]string{"check", "--baseline", good, "--fail-on", "tool-errors"}, exitUsage, `--fail-on "tool-errors": want tool-error, provider-error or none`},
		{[]string{"check", "--baseline", good, "--min-confidence", "2"}, exitUsage, "--min-confidence 2: want a value from 0 to 1"},
		{[]string{"check", "--baseline", good, "--bogus"}, exitUsage, "unknown flag"},
		{[]string{"check", "--baseline", filepath.Join(dir, "none.json")}, exitError, "none.json: no such file"},
		{[]string{"check", "--baseline", malformed}, exitError, "bad.json:3:17: malformed baseline: invalid character ','"},
		{[]string{"check", "--baseline", newer}, exitError, "newer.json: unsupported baseline schema_version 9: this clawtrace reads 1"},
		{[]string{"check", "--baseline", badTh}, exitError, `badth.json: bad thresholds: thresholds.max_cost_increase: bad limit "ten"`},
		{[]string{"check", "--baseline", good, "--scenarios", badMap}, exitError, `map.json: scenario "a": no session patterns`},
		{[]string{"check", "--baseline", good, filepath.Join(dir, "no-such-input")}, exitError, "no usable input"},
		{[]string{"baseline"}, exitUsage, "-o is required"},
		{[]string{"baseline", "-o", "x.json", "--max-tokens-increase", "x"}, exitUsage, `--max-tokens-increase: bad limit "x"`},
		{[]string{"baseline", "-o", malformed}, exitError, "bad.json:3:17: malformed baseline: invalid character ',' looking for beginning of object key string (not overwriting a baseline that cannot be read"},
		{[]string{"baseline", "-o", filepath.Join(dir, "empty.json"), "--since", "2030-01-01"}, exitError, "no runs in the inputs: not writing an empty baseline"},
	} {
		args := c.args
		if !strings.Contains(strings.Join(args, " "), "no-such-input") && len(args) > 1 {
			args = append(append([]string(nil), args...), in...)
		}
		code, _, stderr := runCheckCLI(t, nil, args...)
		if code != c.code || !strings.Contains(stderr, c.msg) {
			t.Errorf("%q: exit %d, stderr %q; want %d and %q", c.args, code, stderr, c.code, c.msg)
		}
	}
	if b, _ := os.ReadFile(malformed); !strings.Contains(string(b), "{,}") {
		t.Error("baseline overwrote a malformed baseline")
	}
	if _, err := os.Stat(filepath.Join(dir, "empty.json")); err == nil {
		t.Error("baseline wrote an empty baseline")
	}
}

func TestCheckRun(t *testing.T) {
	in := checkFixtureInputs(t, checkCorpusDir, "01-plain", "02-one-tool", "05-tool-error", "10-subagent")
	bl := filepath.Join(t.TempDir(), "baseline.json")
	code, stdout, stderr := runCheckCLI(t, nil, append([]string{"baseline", "-o", bl, "--max-cost-increase", "10%", "--fail-on", "tool-error"}, in...)...)
	if code != exitOK || stdout != "" || !strings.Contains(stderr, "wrote "+bl+": 4 scenarios, 6 runs") {
		t.Fatalf("baseline: exit %d, stdout %q, stderr %q", code, stdout, stderr)
	}
	data, _ := os.ReadFile(bl)
	var file struct {
		Thresholds map[string]any             `json:"thresholds"`
		Scenarios  map[string]json.RawMessage `json:"scenarios"`
	}
	if err := json.Unmarshal(data, &file); err != nil {
		t.Fatal(err)
	}
	// The subagent session of 10-subagent counts toward main/s10.
	if len(file.Scenarios) != 4 || file.Scenarios["main/s10"] == nil || file.Thresholds["max_cost_increase"] != "10%" {
		t.Errorf("baseline file: %s", data)
	}
	// baseline to stdout gives the same bytes, whatever the input order and
	// the number of workers.
	rev := append([]string(nil), in...)
	slices.Reverse(rev)
	for _, args := range [][]string{in, rev} {
		for _, workers := range []string{"1", "4"} {
			cmd := append([]string{"baseline", "-o", "-", "--workers", workers, "--max-cost-increase", "10%", "--fail-on", "tool-error"}, args...)
			if _, out, _ := runCheckCLI(t, nil, cmd...); out != string(data) {
				t.Errorf("%v differs from the file:\n%s", cmd, out)
			}
		}
	}

	code, stdout, stderr = runCheckCLI(t, nil, append([]string{"check", "--baseline", bl, "--max-calls-increase", "0"}, in...)...)
	if code != exitOK || stderr != "" {
		t.Fatalf("check: exit %d, stderr %q\n%s", code, stderr, stdout)
	}
	for _, want := range []string{
		"│ main/s05 │ tool-error │ 1 │ 1 │ +0 │ ≤ 1 │ pass │",
		"PASS: 20 checks: 20 passed, 0 failed, 0 warnings, 0 skipped (4 scenarios in the baseline, 4 in the inputs)",
	} {
		if !strings.Contains(checkSqueeze(stdout), want) {
			t.Errorf("check output lacks %q:\n%s", want, stdout)
		}
	}
	code, stdout, _ = runCheckCLI(t, nil, append([]string{"check", "--json", "--baseline", bl}, in...)...)
	var rep struct {
		Result  string `json:"result"`
		Results []struct {
			Scenario, Check, Status string
		} `json:"results"`
	}
	if err := json.Unmarshal([]byte(stdout), &rep); err != nil || code != exitOK || rep.Result != "pass" || len(rep.Results) != 12 {
		t.Errorf("check --json: exit %d, %v, %+v\n%s", code, err, rep, stdout)
	}
}

// The worsened copies: (a) an extra tool loop, (b) a higher-priced model.
// check fails with exitRegression and a message naming the scenario, the
// metric, the baseline value, the new value and the threshold.
func TestCheckWorsenedExtraToolLoop(t *testing.T) {
	state := checkWorsenedCopy(t, "extra-tool-loop", checkExtraToolLoop)
	bl := filepath.Join(t.TempDir(), "baseline.json")
	if code, _, stderr := runCheckCLI(t, nil, "baseline", "-o", bl, filepath.Join(worsenedSource, "state")); code != exitOK {
		t.Fatalf("baseline: exit %d: %s", code, stderr)
	}
	code, stdout, stderr := runCheckCLI(t, nil, "check", "--baseline", bl, "--max-calls-increase", "10%", state)
	if code != exitRegression {
		t.Fatalf("check: exit %d, want %d\n%s\n%s", code, exitRegression, stdout, stderr)
	}
	for _, want := range []string{
		"FAIL scenario main/s02: llm_calls 2 → 4 (+100%) exceeds +10%",
		"FAIL scenario main/s02: tool_calls 1 → 2 (+100%) exceeds +10%",
	} {
		if !strings.Contains(stdout, want) {
			t.Errorf("output lacks %q:\n%s", want, stdout)
		}
	}
	if !strings.Contains(stderr, "check failed: 2 of 3 checks failed") {
		t.Errorf("stderr %q", stderr)
	}
	// Without thresholds nothing but presence is checked, and it passes.
	if code, stdout, _ := runCheckCLI(t, nil, "check", "--baseline", bl, state); code != exitOK || !strings.Contains(stdout, "note: no thresholds set") {
		t.Errorf("no thresholds: exit %d\n%s", code, stdout)
	}
}

func TestCheckWorsenedPricierModel(t *testing.T) {
	state := checkWorsenedCopy(t, "pricier-model", checkPricierModel)
	bl := filepath.Join(t.TempDir(), "baseline.json")
	if code, _, stderr := runCheckCLI(t, nil, "baseline", "-o", bl, filepath.Join(worsenedSource, "state")); code != exitOK {
		t.Fatalf("baseline: exit %d: %s", code, stderr)
	}
	code, stdout, stderr := runCheckCLI(t, nil, "check", "--baseline", bl, "--max-cost-increase", "10%", "--max-tokens-increase", "0%", "--max-calls-increase", "0", state)
	if code != exitRegression {
		t.Fatalf("check: exit %d, want %d\n%s\n%s", code, exitRegression, stdout, stderr)
	}
	const want = "FAIL scenario main/s02: cost_usd 0.00191 → 0.00573 (+200%) exceeds +10%"
	if !strings.Contains(stdout, want) || !strings.Contains(stderr, "check failed: 1 of 5 checks failed") {
		t.Errorf("output lacks %q or the count:\n%s\n%s", want, stdout, stderr)
	}
	if !strings.Contains(string(checkPricierModel([]byte(`"model":"mock-a","cost":{"input":0.0015,"output":0.000039999999999999996,"total":0.00154}`))),
		`"model":"mock-a-pro","cost":{"input":0.0045,"output":0.00012,"total":0.00462}`) {
		t.Error("checkPricierModel rewrites wrongly")
	}
}

// TestCheckWorsenedFixtures runs the committed worsened fixtures the way
// docs/ci.md shows: against fixtures/worsened/baseline.json.
func TestCheckWorsenedFixtures(t *testing.T) {
	bl := filepath.Join(worsenedDir, "baseline.json")
	if *updateWorsened {
		os.Remove(bl)
		if code, _, stderr := runCheckCLI(t, nil, "baseline", "-o", bl, "--max-cost-increase", "10%", "--max-tokens-increase", "10%",
			"--max-calls-increase", "10%", "--fail-on", "tool-error,provider-error", filepath.Join(worsenedSource, "state")); code != exitOK {
			t.Fatalf("baseline: exit %d: %s", code, stderr)
		}
	}
	// The original passes, also reduced to its transcript as the worsened
	// copies are (the rest of the state dir changes no metric).
	only := filepath.Join(t.TempDir(), "state")
	checkCopyTree(t, filepath.Join(worsenedSource, "state", filepath.Dir(worsenedJSONL)), filepath.Join(only, filepath.Dir(worsenedJSONL)))
	for _, f := range []string{"sessions.json", "s02.trajectory.jsonl", "s02.trajectory-path.json", "skills-prompts"} {
		if err := os.RemoveAll(filepath.Join(only, filepath.Dir(worsenedJSONL), f)); err != nil {
			t.Fatal(err)
		}
	}
	for _, state := range []string{filepath.Join(worsenedSource, "state"), only} {
		if code, stdout, _ := runCheckCLI(t, nil, "check", "--baseline", bl, "--max-duration-increase", "0%", state); code != exitOK {
			t.Errorf("the original fixture (%s) fails its baseline: exit %d\n%s", state, code, stdout)
		}
	}
	for name, want := range map[string]string{
		"extra-tool-loop": "scenario main/s02: llm_calls 2 → 4 (+100%) exceeds +10%",
		"pricier-model":   "scenario main/s02: cost_usd 0.00191 → 0.00573 (+200%) exceeds +10%",
	} {
		code, stdout, _ := runCheckCLI(t, nil, "check", "--baseline", bl, filepath.Join(worsenedDir, name, "state"))
		if code != exitRegression || !strings.Contains(stdout, want) {
			t.Errorf("%s: exit %d, want %d and %q:\n%s", name, code, exitRegression, want, stdout)
		}
	}
}

// TestFixturesBaseline is how CI checks the fixtures: the committed
// fixtures/baseline.json must pass against the recorded corpus. After an
// intended change, regenerate it with the command in docs/ci.md.
func TestFixturesBaseline(t *testing.T) {
	args := append([]string{"check", "--baseline", "../../fixtures/baseline.json"}, checkFixtureInputs(t, checkCorpusDir)...)
	code, stdout, stderr := runCheckCLI(t, nil, args...)
	if code != exitOK {
		t.Fatalf("check against fixtures/baseline.json: exit %d (regenerate it as docs/ci.md says if the change is intended)\n%s\n%s", code, stdout, stderr)
	}
	if !strings.Contains(stdout, "PASS: ") || strings.Contains(stdout, "note: no thresholds set") {
		t.Errorf("fixtures/baseline.json sets no thresholds or did not pass:\n%s", stdout)
	}
	// The committed file is what regenerating it writes, byte for byte (a
	// check within thresholds could hide drift in the other numbers).
	const committed = "../../fixtures/baseline.json"
	fresh := filepath.Join(t.TempDir(), "baseline.json")
	data, err := os.ReadFile(committed)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(fresh, data, 0o644); err != nil {
		t.Fatal(err)
	}
	if code, _, stderr := runCheckCLI(t, nil, append([]string{"baseline", "-o", fresh}, checkFixtureInputs(t, checkCorpusDir)...)...); code != exitOK {
		t.Fatalf("regenerating: exit %d: %s", code, stderr)
	}
	got, _ := os.ReadFile(fresh)
	tracetest.Golden(t, committed, got, *update, "go test ./cmd/clawtrace -run TestFixturesBaseline -update")
}

func TestCheckGitHubOutputs(t *testing.T) {
	state := checkWorsenedCopy(t, "pricier-model", checkPricierModel)
	dir := t.TempDir()
	bl := filepath.Join(dir, "baseline.json")
	if code, _, stderr := runCheckCLI(t, nil, "baseline", "-o", bl, "--max-cost-increase", "10%", filepath.Join(worsenedSource, "state")); code != exitOK {
		t.Fatalf("baseline: exit %d: %s", code, stderr)
	}
	summary := checkWriteFile(t, "summary.md", "# earlier step\n")
	junit := filepath.Join(dir, "check.xml")
	env := map[string]string{"GITHUB_ACTIONS": "true", "GITHUB_STEP_SUMMARY": summary}
	code, stdout, stderr := runCheckCLI(t, env, "check", "--baseline", bl, "--junit", junit, state)
	if code != exitRegression {
		t.Fatalf("exit %d\n%s\n%s", code, stdout, stderr)
	}
	const annotation = "::error title=clawtrace check::scenario main/s02: cost_usd 0.00191 → 0.00573 (+200%25) exceeds +10%25\n"
	if !strings.Contains(stdout, annotation) {
		t.Errorf("stdout lacks the annotation %q:\n%s", annotation, stdout)
	}
	md, _ := os.ReadFile(summary)
	if !strings.HasPrefix(string(md), "# earlier step\n## clawtrace check: ❌ failed") ||
		!strings.Contains(string(md), "| main/s02 | cost | 0.00191 | 0.00573 | +200% | +10% | fail |") {
		t.Errorf("step summary:\n%s", md)
	}
	x, err := os.ReadFile(junit)
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Suites []struct {
			Failures int `xml:"failures,attr"`
			Cases    []struct {
				Name      string `xml:"name,attr"`
				Classname string `xml:"classname,attr"`
				Failure   *struct {
					Message string `xml:"message,attr"`
				} `xml:"failure"`
			} `xml:"testcase"`
		} `xml:"testsuite"`
	}
	if err := xml.Unmarshal(x, &doc); err != nil {
		t.Fatalf("junit: %v\n%s", err, x)
	}
	if len(doc.Suites) != 1 || doc.Suites[0].Failures != 1 || len(doc.Suites[0].Cases) != 2 ||
		doc.Suites[0].Cases[1].Failure == nil || doc.Suites[0].Cases[1].Failure.Message != "scenario main/s02: cost_usd 0.00191 → 0.00573 (+200%) exceeds +10%" {
		t.Errorf("junit:\n%s", x)
	}
	// With --json, annotations go to stderr and stdout stays JSON.
	code, stdout, stderr = runCheckCLI(t, map[string]string{"GITHUB_ACTIONS": "true"}, "check", "--json", "--baseline", bl, state)
	var v map[string]any
	if code != exitRegression || json.Unmarshal([]byte(stdout), &v) != nil || !strings.Contains(stderr, annotation) {
		t.Errorf("--json under Actions: exit %d\nstdout %s\nstderr %s", code, stdout, stderr)
	}
}

func TestBaselineCmdKeepsThresholds(t *testing.T) {
	in := checkFixtureInputs(t, checkCorpusDir, "02-one-tool")
	bl := filepath.Join(t.TempDir(), "baseline.json")
	if code, _, stderr := runCheckCLI(t, nil, append([]string{"baseline", "-o", bl, "--max-cost-increase", "10%", "--require-tool", "read"}, in...)...); code != exitOK {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	code, _, stderr := runCheckCLI(t, nil, append([]string{"baseline", "-o", bl, "--max-cost-increase", "5%"}, in...)...)
	if code != exitOK || !strings.Contains(stderr, "kept the thresholds of the existing "+bl) {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	data, _ := os.ReadFile(bl)
	var file struct {
		Thresholds map[string]any `json:"thresholds"`
	}
	if err := json.Unmarshal(data, &file); err != nil {
		t.Fatal(err)
	}
	if file.Thresholds["max_cost_increase"] != "5%" || file.Thresholds["require_tool"] == nil {
		t.Errorf("thresholds after the update: %v", file.Thresholds)
	}
	// Flags given to check override the file: 5% → 0% still passes (no change).
	if code, stdout, _ := runCheckCLI(t, nil, append([]string{"check", "--baseline", bl, "--max-cost-increase", "0%", "--forbid-tool", "read"}, in...)...); code != exitRegression ||
		!strings.Contains(stdout, "FAIL scenario main/s02: tool_calls_by_name.read 1 → 1: forbidden tool read was called (threshold = 0)") ||
		!strings.Contains(checkSqueeze(stdout), "│ main/s02 │ cost │ 0.00191 │ 0.00191 │ +0% │ +0% │ pass │") {
		t.Errorf("check with flags: exit %d\n%s", code, stdout)
	}
}

func TestCheckMissingAndNewScenarios(t *testing.T) {
	bl := filepath.Join(t.TempDir(), "baseline.json")
	if code, _, stderr := runCheckCLI(t, nil, append([]string{"baseline", "-o", bl}, checkFixtureInputs(t, checkCorpusDir, "01-plain", "02-one-tool")...)...); code != exitOK {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	// 01-plain is missing (a failure), 03-chain3 is new (a warning).
	code, stdout, _ := runCheckCLI(t, nil, append([]string{"check", "--baseline", bl, "--forbid-tool", "write"}, checkFixtureInputs(t, checkCorpusDir, "02-one-tool", "03-chain3")...)...)
	if code != exitRegression {
		t.Fatalf("exit %d\n%s", code, stdout)
	}
	for _, want := range []string{
		"FAIL scenario main/s01: missing: runs 1 → none; every baseline scenario must be in the inputs",
		"WARN scenario main/s03: new, not in the baseline: runs none → 1; values not compared (run clawtrace baseline to add it)",
		"FAIL scenario main/s03: tool_calls_by_name.write none → 1: forbidden tool write was called (threshold = 0)",
	} {
		if !strings.Contains(stdout, want) {
			t.Errorf("output lacks %q:\n%s", want, stdout)
		}
	}
	// A new scenario alone only warns.
	code, stdout, _ = runCheckCLI(t, nil, append([]string{"check", "--baseline", bl}, checkFixtureInputs(t, checkCorpusDir, "01-plain", "02-one-tool", "03-chain3")...)...)
	if code != exitOK || !strings.Contains(stdout, "WARN scenario main/s03: new") {
		t.Errorf("new scenario: exit %d\n%s", code, stdout)
	}
	// Filtered inputs: a missing scenario only warns.
	code, stdout, _ = runCheckCLI(t, nil, append([]string{"check", "--baseline", bl, "--session", "s02"}, checkFixtureInputs(t, checkCorpusDir, "01-plain", "02-one-tool")...)...)
	if code != exitOK || !strings.Contains(stdout, "WARN scenario main/s01: missing: runs 1 → none; every baseline scenario must be in the inputs (not a failure: the inputs were filtered") {
		t.Errorf("filtered: exit %d\n%s", code, stdout)
	}
	// Grouping with a scenario map: both sessions form one scenario.
	smap := checkWriteFile(t, "map.json", `{"read-notes": ["s01", "agent:main:explicit:s02"]}`)
	bl2 := filepath.Join(t.TempDir(), "grouped.json")
	in := checkFixtureInputs(t, checkCorpusDir, "01-plain", "02-one-tool")
	if code, _, stderr := runCheckCLI(t, nil, append([]string{"baseline", "--scenarios", smap, "-o", bl2}, in...)...); code != exitOK {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	code, stdout, _ = runCheckCLI(t, nil, append([]string{"check", "--scenarios", smap, "--baseline", bl2, "--max-calls-increase", "0"}, in...)...)
	if code != exitOK || !strings.Contains(checkSqueeze(stdout), "│ read-notes │ llm_calls │ 3 │ 3 │ +0 │ +0 │ pass │") {
		t.Errorf("grouped: exit %d\n%s", code, stdout)
	}
	// Without the map every scenario is missing or new, and a note says why.
	code, stdout, _ = runCheckCLI(t, nil, append([]string{"check", "--baseline", bl2}, in...)...)
	if code != exitRegression || !strings.Contains(stdout, "note: no scenario of the inputs is in the baseline") {
		t.Errorf("map left out: exit %d\n%s", code, stdout)
	}
}

func TestCheckWriteFileAtomic(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "out.json")
	if err := os.WriteFile(p, []byte("old"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := writeFileAtomicCheck(p, []byte("new")); err != nil {
		t.Fatal(err)
	}
	st, _ := os.Stat(p)
	b, _ := os.ReadFile(p)
	if string(b) != "new" || st.Mode().Perm() != 0o600 {
		t.Errorf("content %q mode %v", b, st.Mode())
	}
	if err := writeFileAtomicCheck(filepath.Join(dir, "missing", "x.json"), []byte("x")); err == nil {
		t.Error("no error for a missing directory")
	}
	ents, _ := os.ReadDir(dir)
	if len(ents) != 1 {
		t.Errorf("left files behind: %v", ents)
	}
}
