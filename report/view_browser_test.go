package report

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/clawtrace/clawtrace/ingest"
	"github.com/clawtrace/clawtrace/reconstruct"
	"github.com/clawtrace/clawtrace/reconstruct/tracetest"
)

// The browser tests drive Debian's chromium (installed by .ci/run when
// missing) through the DevTools protocol. They skip when no browser is
// found, unless CLAWTRACE_REQUIRE_CHROMIUM is set (as .ci/run does).
var screenshot = flag.String("screenshot", "", "write a PNG of one waterfall to this file (docs/view-waterfall.png)")

func chromium(t *testing.T) string {
	t.Helper()
	if p := os.Getenv("CLAWTRACE_CHROMIUM"); p != "" {
		return p
	}
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	if os.Getenv("CLAWTRACE_REQUIRE_CHROMIUM") != "" {
		t.Fatal("no chromium found and CLAWTRACE_REQUIRE_CHROMIUM is set (apt-get install chromium)")
	}
	t.Skip("no chromium: install Debian's chromium package to run the browser tests")
	return ""
}

// page is a page open in a headless browser, with the errors it logged.
type page struct {
	ctx  context.Context // for actions: times out
	mu   sync.Mutex
	errs []string
}

// openPage loads file in a fresh headless chromium with no network access
// beyond the file itself; hash, if any, is the page's fragment.
func openPage(t *testing.T, file, hash string) *page {
	t.Helper()
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(chromium(t)),
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1400, 1000),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("no-first-run", true),
	)
	actx, cancelA := chromedp.NewExecAllocator(context.Background(), opts...)
	bctx, cancelB := chromedp.NewContext(actx)
	p := &page{}
	// The browser lives as long as bctx; actions run under a timeout.
	msgs := chromedp.Console(bctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		for m, err := range msgs {
			if err != nil {
				return
			}
			if m.Type == chromedp.ConsoleError || m.Type == chromedp.ConsoleWarning || m.Type == chromedp.ConsoleException {
				p.mu.Lock()
				p.errs = append(p.errs, m.String())
				p.mu.Unlock()
			}
		}
	}()
	ctx, cancelT := context.WithTimeout(bctx, 90*time.Second)
	t.Cleanup(func() { cancelT(); cancelB(); cancelA(); <-done })
	p.ctx = ctx
	abs, err := filepath.Abs(file)
	if err != nil {
		t.Fatal(err)
	}
	url := "file://" + filepath.ToSlash(abs)
	if hash != "" {
		url += "#" + hash
	}
	if err := chromedp.Do(bctx, chromedp.Navigate(url)); err != nil {
		t.Fatalf("load %s: %v", file, err)
	}
	p.do(t, chromedp.WaitReady(chromedp.CSS("#rows")))
	return p
}

func (p *page) do(t *testing.T, actions ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	if err := chromedp.Do(p.ctx, actions...); err != nil {
		t.Fatal(err)
	}
}

// eval returns the value of a JavaScript expression.
func eval[T any](t *testing.T, p *page, expr string) T {
	t.Helper()
	v, err := chromedp.Run(p.ctx, chromedp.Evaluate[T](expr))
	if err != nil {
		t.Fatalf("%s: %v", expr, err)
	}
	return v
}

// js runs a JavaScript statement for its effect.
func js(t *testing.T, p *page, stmt string) {
	t.Helper()
	eval[bool](t, p, "("+stmt+"), true")
}

// noErrors fails the test for every error or warning the page logged.
func (p *page) noErrors(t *testing.T) {
	t.Helper()
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, e := range p.errs {
		t.Errorf("page logged %s", e)
	}
}

// writeView renders traces into a page file and returns its path.
func writeView(t *testing.T, traces []reconstruct.Trace, opt ViewOptions, sum ViewSummary) string {
	t.Helper()
	var buf bytes.Buffer
	v, err := NewViewWriter(&buf, opt)
	if err != nil {
		t.Fatal(err)
	}
	// One batch per session, as the command writes them.
	for i := 0; i < len(traces); {
		j := i + 1
		for j < len(traces) && traces[j].SessionID == traces[i].SessionID && traces[j].AgentID == traces[i].AgentID {
			j++
		}
		if err := v.Write(traces[i:j]); err != nil {
			t.Fatal(err)
		}
		i = j
	}
	if err := v.Close(sum); err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(t.TempDir(), "view.html")
	if err := os.WriteFile(file, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	return file
}

func corpusTraces(t *testing.T, version string) []reconstruct.Trace {
	t.Helper()
	traces, _, err := tracetest.Reconstruct([]string{filepath.Join(corpusRoot, version)}, ingest.Options{})
	if err != nil {
		t.Fatal(err)
	}
	return traces
}

// TestViewInBrowser renders the page of every recording of a release in
// chromium: no console error; every run in the list; the waterfall of a
// run with parallel tools, of one with failed attempts and of one with a
// compaction holds exactly their spans, marked; a click shows a span's
// evidence; sorting by cost puts the dearest run first.
func TestViewInBrowser(t *testing.T) {
	traces := corpusTraces(t, "openclaw-2026.9.6")
	file := writeView(t, traces, ViewOptions{Title: "fixtures"}, ViewSummary{Inputs: []string{"fixtures/corpus/openclaw-2026.9.6"}})
	find := func(what string, ok func(*reconstruct.Trace) bool) *reconstruct.Trace {
		for i := range traces {
			if ok(&traces[i]) {
				return &traces[i]
			}
		}
		t.Fatalf("no run with %s in the fixtures", what)
		return nil
	}
	kinds := func(tr *reconstruct.Trace, k reconstruct.SpanKind, failed bool) int {
		n := 0
		for _, sp := range tr.Spans {
			if sp.Kind == k && (!failed || sp.Status == reconstruct.StatusError) {
				n++
			}
		}
		return n
	}
	parallel := find("three tools", func(tr *reconstruct.Trace) bool { return tr.SessionID == "s04" })
	retry := find("failed attempts", func(tr *reconstruct.Trace) bool { return kinds(tr, reconstruct.KindLLM, true) > 0 })
	compaction := find("a compaction", func(tr *reconstruct.Trace) bool { return kinds(tr, reconstruct.KindCompaction, false) > 0 })

	p := openPage(t, file, "")
	ids := eval[[]string](t, p, `[...document.querySelectorAll('#rows tr')].map(r => r.dataset.run)`)
	var want []string
	for _, tr := range traces {
		want = append(want, tr.ID.String())
	}
	slices.Sort(ids)
	slices.Sort(want)
	if !slices.Equal(ids, want) {
		t.Errorf("list has runs %v, want %v", ids, want)
	}
	if got := eval[string](t, p, `document.getElementById('count').textContent`); got != fmt.Sprintf("%d of %d runs", len(traces), len(traces)) {
		t.Errorf("count says %q", got)
	}

	for _, c := range []struct {
		name     string
		tr       *reconstruct.Trace
		selector string // rows that must be marked
		marked   int
	}{
		{"parallel tools", parallel, `.wf tbody tr[data-kind=tool] .b-par`, 3},
		{"failed attempts", retry, `.wf tbody tr[data-kind=llm] .sp.err`, kinds(retry, reconstruct.KindLLM, true)},
		{"compaction", compaction, `.wf tbody tr[data-kind=compaction] .b-comp`, kinds(compaction, reconstruct.KindCompaction, false)},
	} {
		js(t, p, `location.hash = 'run=`+c.tr.ID.String()+`'`)
		p.do(t, chromedp.WaitVisible(chromedp.CSS(`.wf tbody tr[data-span="`+c.tr.Spans[0].ID.String()+`"]`)))
		got := eval[[]string](t, p, `[...document.querySelectorAll('.wf tbody tr')].map(r => r.dataset.span)`)
		var spans []string
		for _, sp := range c.tr.Spans {
			spans = append(spans, sp.ID.String())
		}
		if g, w := slices.Sorted(slices.Values(got)), slices.Sorted(slices.Values(spans)); !slices.Equal(g, w) {
			t.Errorf("%s: waterfall rows %v, want spans %v", c.name, g, w)
		}
		if n := eval[int](t, p, `document.querySelectorAll('`+c.selector+`').length`); n != c.marked || n == 0 {
			t.Errorf("%s: %d rows match %s, want %d", c.name, n, c.selector, c.marked)
		}
		if sel := eval[string](t, p, `document.querySelector('#rows tr.sel') && document.querySelector('#rows tr.sel').dataset.run`); sel != c.tr.ID.String() {
			t.Errorf("%s: list highlights %q", c.name, sel)
		}
	}

	// A click on a tool row shows where its emitting call came from.
	js(t, p, `location.hash = 'run=`+parallel.ID.String()+`'`)
	p.do(t, chromedp.WaitVisible(chromedp.CSS(`.wf tbody tr[data-span="`+parallel.Spans[0].ID.String()+`"]`)),
		chromedp.Click(chromedp.CSS(`.wf tbody tr[data-kind=tool]`)))
	det := eval[string](t, p, `document.getElementById('detail').textContent`)
	for _, w := range []string{"emitted_by", "id.exact", "hooks.jsonl:", "confidence"} {
		if !strings.Contains(det, w) {
			t.Errorf("span detail lacks %q: %s", w, det)
		}
	}
	if *screenshot != "" {
		js(t, p, `document.getElementById('run').scrollIntoView()`)
		png, err := chromedp.Run(p.ctx, chromedp.Screenshot(chromedp.CSS(`#run`)))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(*screenshot, png, 0o644); err != nil {
			t.Fatal(err)
		}
	}

	// A subagent run links back to the run and the span that spawned it.
	child := find("a subagent", func(tr *reconstruct.Trace) bool { return tr.Subagent })
	var spawner, spawn string
	for _, tr := range traces {
		for _, sp := range tr.Spans {
			if l, ok := sp.Link("spawned"); ok && l.Trace == child.ID {
				spawner, spawn = tr.ID.String(), sp.ID.String()
			}
		}
	}
	if spawner == "" {
		t.Fatal("no span spawned the subagent run")
	}
	js(t, p, `window.scrollTo(0, 0)`)
	p.do(t, chromedp.Click(chromedp.CSS(`#rows tr[data-run="`+child.ID.String()+`"] a`)),
		chromedp.WaitVisible(chromedp.CSS(`.wf tbody tr.sel[data-span="`+spawn+`"]`)))
	if got := eval[string](t, p, `location.hash`); got != "#run="+spawner+"&span="+spawn {
		t.Errorf("the subagent's link leads to %s, want the spawning run and span", got)
	}
	// The waterfall is brought into view (near the top, or as far as the
	// page scrolls).
	if top := eval[float64](t, p, `document.getElementById('run').getBoundingClientRect().top / innerHeight`); top < -0.01 || top > 0.5 {
		t.Errorf("opening a run leaves the waterfall at %.0f%% of the window's height", 100*top)
	}

	// Sorting by cost (highest first) puts the dearest run on top.
	p.do(t, chromedp.Click(chromedp.CSS(`th[data-k="10"]`)))
	top := eval[string](t, p, `document.querySelector('#rows tr').dataset.run`)
	var dearest string
	best := -1.0
	for _, tr := range traces {
		c := 0.0
		for _, sp := range tr.Spans {
			if sp.Usage.Cost != nil && !isForkCopyEvidence(&sp) {
				c += sp.Usage.Cost.Total
			}
		}
		if c > best {
			best, dearest = c, tr.ID.String()
		}
	}
	if top != dearest {
		t.Errorf("sorted by cost, the first run is %s, want %s ($%.6f)", top, dearest, best)
	}
	p.noErrors(t)
}

func isForkCopyEvidence(sp *reconstruct.Span) bool {
	for _, e := range sp.Evidence {
		if e.Field == "usage" && strings.HasPrefix(e.Note, reconstruct.NoteForkCopy) {
			return true
		}
	}
	return false
}

// hostile are strings that would run script or inject markup if the page
// put transcript text into HTML unescaped.
var hostile = []string{
	`<script>window.__pwned=1</script>`,
	`"><img src=x onerror="window.__pwned=2">`,
	`</script><script>window.__pwned=3</script>`,
	`'><svg onload="window.__pwned=4">`,
	"\u2028<!--<script>window.__pwned=5</script>",
}

// TestViewEscapesEverything puts hostile text in every field the page
// shows (ids, names, models, tools, errors, evidence, content, inputs,
// title) and checks in chromium that it renders as text: no script runs,
// no element is injected, and the text is on the page.
func TestViewEscapesEverything(t *testing.T) {
	traces := corpusTraces(t, "openclaw-2026.9.6")
	var tr *reconstruct.Trace
	for i := range traces {
		if traces[i].SessionID == "s06" { // failed attempts: error messages
			tr = &traces[i]
		}
	}
	if tr == nil {
		t.Fatal("no s06 run")
	}
	n := 0
	next := func() string { n++; return hostile[n%len(hostile)] + fmt.Sprint(n) }
	tr.SessionID, tr.RunID, tr.AgentID, tr.ParentSessionKey = next(), next(), next(), next()
	for i := range tr.Spans {
		sp := &tr.Spans[i]
		sp.Name, sp.Model, sp.ToolName, sp.ToolCallID = next(), next(), next(), next()
		sp.StatusMessage, sp.ErrorType, sp.Input, sp.Output = next(), next(), next(), next()
		sp.Inferred = append(sp.Inferred, next())
		for j := range sp.Evidence {
			sp.Evidence[j].Note, sp.Evidence[j].Method = next(), next()
			sp.Evidence[j].Sources = append(sp.Evidence[j].Sources, ingest.Source{File: next(), Line: 1})
		}
		sp.Status = reconstruct.StatusError
	}
	file := writeView(t, []reconstruct.Trace{*tr}, ViewOptions{Title: next(), Content: true},
		ViewSummary{Inputs: []string{next()}, Filters: []string{next()}, SkippedLines: 1, Reasons: map[string]int{next(): 1}})
	p := openPage(t, file, "run="+tr.ID.String())
	p.do(t, chromedp.WaitVisible(chromedp.CSS(`.wf tbody tr`)))
	rows := eval[int](t, p, `document.querySelectorAll('.wf tbody tr').length`)
	if rows != len(tr.Spans) {
		t.Errorf("%d rows for %d spans", rows, len(tr.Spans))
	}
	for i := range rows {
		js(t, p, fmt.Sprintf(`document.querySelectorAll('.wf tbody tr')[%d].click()`, i))
		if got := eval[bool](t, p, `window.__pwned !== undefined`); got {
			t.Fatalf("hostile text ran as script after clicking row %d", i)
		}
	}
	if got := eval[bool](t, p, `window.__pwned !== undefined`); got {
		t.Fatal("hostile text ran as script")
	}
	if n := eval[int](t, p, `document.querySelectorAll('img, svg[onload], [onerror], [onload]').length`); n != 0 {
		t.Errorf("%d injected elements", n)
	}
	if got := eval[int](t, p, `document.querySelectorAll('script').length`); got != 2+1 { // runs data, one run, the page's script
		t.Errorf("%d script elements, want 3", got)
	}
	text := eval[string](t, p, `document.body.innerText`)
	for _, w := range []string{`<script>window.__pwned=1</script>`, `"><img src=x onerror="window.__pwned=2">`} {
		if !strings.Contains(text, w) {
			t.Errorf("hostile text %q not shown as text", w)
		}
	}
	p.noErrors(t)
}

// TestViewTenThousandRuns: a page of 10,000 runs loads without error, keeps
// the DOM small (one page of the list, one waterfall), pages, sorts and
// opens a run from a later page; its size stays a few KB per run.
func TestViewTenThousandRuns(t *testing.T) {
	if testing.Short() {
		t.Skip("-short")
	}
	base := corpusTraces(t, "openclaw-2026.9.6")
	const runs = 10000
	traces := make([]reconstruct.Trace, 0, runs)
	for i := 0; len(traces) < runs; i++ {
		tr := base[i%len(base)]
		tr.ID[0], tr.ID[1], tr.ID[2] = byte(i), byte(i>>8), byte(i>>16)
		traces = append(traces, tr)
	}
	file := writeView(t, traces, ViewOptions{Title: "10k"}, ViewSummary{})
	st, err := os.Stat(file)
	if err != nil {
		t.Fatal(err)
	}
	if per := st.Size() / runs; per > 12<<10 {
		t.Errorf("%d bytes per run: the page should stay small", per)
	}
	t.Logf("10,000 runs: %.1f MB", float64(st.Size())/1e6)
	p := openPage(t, file, "")
	if got := eval[string](t, p, `document.getElementById('count').textContent`); got != "10000 of 10000 runs" {
		t.Errorf("count says %q", got)
	}
	if n := eval[int](t, p, `document.querySelectorAll('#rows tr').length`); n != 100 {
		t.Errorf("%d rows in the DOM, want one page of 100", n)
	}
	n := eval[int](t, p, `document.getElementsByTagName('*').length - document.getElementsByTagName('script').length`)
	if n > 5000 {
		t.Errorf("%d elements in the DOM: the list is not paginated", n)
	}
	t.Logf("%d elements in the DOM besides the data blocks", n)
	p.do(t, chromedp.Click(chromedp.CSS(`#next`)), chromedp.Click(chromedp.CSS(`th[data-k="13"]`)))
	if got := eval[string](t, p, `document.getElementById('page').textContent`); got != "page 1 of 100" {
		t.Errorf("after sorting: %q, want the first page", got)
	}
	p.do(t, chromedp.Click(chromedp.CSS(`#next`)), chromedp.Click(chromedp.CSS(`#next`)))
	if got := eval[string](t, p, `document.getElementById('page').textContent`); got != "page 3 of 100" {
		t.Errorf("pager says %q", got)
	}
	p.do(t, chromedp.Click(chromedp.CSS(`#rows tr`)), chromedp.WaitVisible(chromedp.CSS(`.wf tbody tr`)))
	// A link to a run shows the page of the list that holds it.
	late := eval[string](t, p, `JSON.parse(document.getElementById('runs').textContent)[4950][0]`)
	js(t, p, `document.getElementById('filter').value = ''`)
	js(t, p, `location.hash = 'run=`+late+`'`)
	p.do(t, chromedp.WaitVisible(chromedp.CSS(`#rows tr.sel[data-run="`+late+`"]`)))
	p.noErrors(t)
}

// TestViewEscapesTranscript: a transcript whose prompt, tool name, model
// and tool arguments hold markup, read by the real parser with content on,
// renders as text in chromium.
func TestViewEscapesTranscript(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "rec")
	if err := os.CopyFS(dir, os.DirFS(filepath.Join(corpusRoot, "openclaw-2026.7.35", "02-one-tool"))); err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(dir, "state", "agents", "main", "sessions", "s02.jsonl")
	data, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	quote := func(s string) string { b, _ := json.Marshal(s); return string(b) }
	data = bytes.ReplaceAll(data, []byte(`"What is in notes.txt?"`), []byte(quote(hostile[0])))
	data = bytes.ReplaceAll(data, []byte(`"name":"read"`), []byte(`"name":`+quote(hostile[1])))
	data = bytes.ReplaceAll(data, []byte(`"toolName":"read"`), []byte(`"toolName":`+quote(hostile[1])))
	data = bytes.ReplaceAll(data, []byte(`"model":"mock-a"`), []byte(`"model":`+quote(hostile[2])))
	data = bytes.ReplaceAll(data, []byte(`"notes.txt"`), []byte(quote(hostile[3])))
	if err := os.WriteFile(file, data, 0o644); err != nil {
		t.Fatal(err)
	}
	traces, _, err := tracetest.Reconstruct([]string{dir}, ingest.Options{Parse: ingest.ParseOptions{Content: true}})
	if err != nil || len(traces) == 0 {
		t.Fatalf("%d traces, %v", len(traces), err)
	}
	page := writeView(t, traces, ViewOptions{Title: "t", Content: true}, ViewSummary{})
	p := openPage(t, page, "run="+traces[0].ID.String())
	p.do(t, chromedp.WaitVisible(chromedp.CSS(`.wf tbody tr`)))
	rows := eval[int](t, p, `document.querySelectorAll('.wf tbody tr').length`)
	for i := range rows {
		js(t, p, fmt.Sprintf(`document.querySelectorAll('.wf tbody tr')[%d].click()`, i))
		if eval[bool](t, p, `window.__pwned !== undefined`) {
			t.Fatalf("transcript text ran as script after clicking row %d", i)
		}
	}
	if n := eval[int](t, p, `document.querySelectorAll('img, [onerror], [onload]').length`); n != 0 {
		t.Errorf("%d injected elements", n)
	}
	text := eval[string](t, p, `document.body.innerText`)
	for _, w := range hostile[1:3] {
		if !strings.Contains(text, w) {
			t.Errorf("transcript text %q not shown as text", w)
		}
	}
	p.noErrors(t)
}
