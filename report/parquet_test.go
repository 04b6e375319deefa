package report

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/parquet-go/parquet-go"
	"github.com/parquet-go/parquet-go/format"

	"github.com/clawtrace/clawtrace/ingest"
	"github.com/clawtrace/clawtrace/reconstruct"
)

const parquetCorpus = "../fixtures/corpus/openclaw-2026.9.6"

// parquetFixtureTraces runs the real pipeline (ingest.Open, Corpus.Each,
// reconstruct.Session) over every scenario of the corpus, in name order.
func parquetFixtureTraces(t *testing.T) []reconstruct.Trace {
	t.Helper()
	ents, err := os.ReadDir(parquetCorpus)
	if err != nil {
		t.Fatal(err)
	}
	var traces []reconstruct.Trace
	for _, e := range ents {
		if !e.IsDir() {
			continue
		}
		dir := filepath.Join(parquetCorpus, e.Name())
		paths := []string{filepath.Join(dir, "state")}
		if _, err := os.Stat(filepath.Join(dir, "hooks.jsonl")); err == nil {
			paths = append(paths, filepath.Join(dir, "hooks.jsonl"))
		}
		c, err := ingest.Open(paths, ingest.Options{})
		if err != nil {
			t.Fatalf("%s: %v", e.Name(), err)
		}
		err = c.Each(t.Context(), func(s *ingest.Session) error {
			traces = append(traces, reconstruct.Session(s, reconstruct.Options{Resolver: c})...)
			return nil
		})
		if err != nil {
			t.Fatalf("%s: %v", e.Name(), err)
		}
	}
	if len(traces) == 0 {
		t.Fatal("no traces in the fixtures")
	}
	return traces
}

// parquetTotals are the sums a query over the spans table must reproduce.
type parquetTotals struct {
	parquetCounts
	Cost   float64
	ByDate map[string]int64
}

// parquetCounts are the exact (comparable) part of parquetTotals.
type parquetCounts struct {
	Spans, LLM, Tools, UsageKnown, CostKnown   int64
	Input, Output, CacheRead, CacheWrite, Prmt int64
}

// pqModelTotals sums the trace model directly (what the table must say).
func pqModelTotals(traces []reconstruct.Trace) parquetTotals {
	tot := parquetTotals{ByDate: map[string]int64{}}
	for i := range traces {
		for j := range traces[i].Spans {
			sp := &traces[i].Spans[j]
			tot.Spans++
			date := hiveNullPartition
			if !sp.Start.IsZero() {
				date = sp.Start.UTC().Format(time.DateOnly)
			}
			tot.ByDate[date]++
			switch sp.Kind {
			case reconstruct.KindTool:
				tot.Tools++
			case reconstruct.KindLLM, reconstruct.KindCompaction:
				tot.LLM++
				if u := sp.Usage; u.Known {
					tot.UsageKnown++
					tot.Input += u.Input
					tot.Output += u.Output
					tot.CacheRead += u.CacheRead
					tot.CacheWrite += u.CacheWrite
					tot.Prmt += u.Input + u.CacheRead + u.CacheWrite
					if u.Cost != nil {
						tot.CostKnown++
						tot.Cost += u.Cost.Total
					}
				}
			}
		}
	}
	return tot
}

// pqRowTotals sums rows read back from Parquet.
func pqRowTotals(rows []SpanRow) parquetTotals {
	tot := parquetTotals{ByDate: map[string]int64{}}
	for _, r := range rows {
		tot.Spans++
		date := hiveNullPartition
		if r.Date != nil {
			date = *r.Date
		}
		tot.ByDate[date]++
		switch r.Kind {
		case "tool":
			tot.Tools++
		case "llm", "compaction":
			tot.LLM++
		}
		if r.InputTokens != nil {
			tot.UsageKnown++
			tot.Input += *r.InputTokens
			tot.Output += *r.OutputTokens
			tot.CacheRead += *r.CacheReadTokens
			tot.CacheWrite += *r.CacheWriteTokens
			tot.Prmt += *r.PromptTokens
		}
		if r.CostUSD != nil {
			tot.CostKnown++
			tot.Cost += *r.CostUSD
		}
	}
	return tot
}

func pqCompareTotals(t *testing.T, what string, got, want parquetTotals) {
	t.Helper()
	if got.parquetCounts != want.parquetCounts {
		t.Errorf("%s: totals\n got %+v\nwant %+v", what, got.parquetCounts, want.parquetCounts)
	}
	if !pqCloseEnough(got.Cost, want.Cost) {
		t.Errorf("%s: cost %v, want %v", what, got.Cost, want.Cost)
	}
	if got.ByDate != nil && want.ByDate != nil && fmt.Sprint(got.ByDate) != fmt.Sprint(want.ByDate) {
		t.Errorf("%s: rows by date %v, want %v", what, got.ByDate, want.ByDate)
	}
}

func pqCloseEnough(a, b float64) bool {
	return math.Abs(a-b) <= 1e-9*math.Max(1, math.Max(math.Abs(a), math.Abs(b)))
}

func writeParquet(t *testing.T, dir string, traces []reconstruct.Trace, opt ParquetOptions) {
	t.Helper()
	w, err := NewParquetWriter(dir, opt)
	if err != nil {
		t.Fatal(err)
	}
	// Several Write calls, as the CLI does one per session.
	for len(traces) > 0 {
		n := min(3, len(traces))
		if err := w.Write(traces[:n]); err != nil {
			t.Fatal(err)
		}
		traces = traces[n:]
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
}

func readParquetRows(t *testing.T, path string) ([]SpanRow, *parquet.File) {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	f, err := parquet.OpenFile(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	rd := parquet.NewGenericReader[SpanRow](bytes.NewReader(data))
	defer rd.Close()
	var rows []SpanRow
	for {
		// N.B. a fresh buffer each time: GenericReader.Read reuses the maps
		// of the rows it reads into, so rows copied out of a reused buffer
		// would share their methods map.
		buf := make([]SpanRow, 100)
		n, err := rd.Read(buf)
		rows = append(rows, buf[:n]...)
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("%s: %v", path, err)
		}
	}
	return rows, f
}

// parquetFiles lists the *.parquet files under dir, sorted, and fails on a
// leftover temporary file.
func parquetFiles(t *testing.T, dir string) []string {
	t.Helper()
	var out []string
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if strings.HasSuffix(p, ".tmp") {
			t.Errorf("temporary file left behind: %s", p)
		}
		if strings.HasSuffix(p, ".parquet") {
			out = append(out, p)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func TestParquetRoundTrip(t *testing.T) {
	traces := parquetFixtureTraces(t)
	dir := t.TempDir()
	writeParquet(t, dir, traces, ParquetOptions{Version: "test", RowGroupRows: 16})
	files := parquetFiles(t, dir)
	if want := []string{filepath.Join(dir, "spans.parquet")}; !slices.Equal(files, want) {
		t.Fatalf("files %v, want %v", files, want)
	}
	rows, f := readParquetRows(t, files[0])
	want := pqModelTotals(traces)
	pqCompareTotals(t, "read back", pqRowTotals(rows), want)
	if want.UsageKnown == 0 || want.CostKnown == 0 || want.Tools == 0 {
		t.Errorf("fixtures exercise too little: %+v", want)
	}

	// Row by row: input order, and every value as NewSpanRow made it
	// (times at microsecond precision, in UTC).
	i := 0
	for ti := range traces {
		for si := range traces[ti].Spans {
			sp := &traces[ti].Spans[si]
			if i >= len(rows) {
				t.Fatalf("only %d rows", len(rows))
			}
			got, exp := rows[i], NewSpanRow(sp)
			for _, tp := range []**time.Time{&exp.Start, &exp.End} {
				if *tp != nil {
					*tp = pqPtr((*tp).Truncate(time.Microsecond))
				}
			}
			if gj, ej := pqJSON(t, got), pqJSON(t, exp); gj != ej {
				t.Errorf("row %d (%s %s):\n got %s\nwant %s", i, sp.Kind, sp.ID, gj, ej)
			}
			pqCheckNulls(t, i, sp, got)
			i++
		}
	}

	// File metadata.
	if v, ok := f.Lookup("clawtrace.schema"); !ok || v != ParquetSchemaVersion {
		t.Errorf("clawtrace.schema = %q, %v", v, ok)
	}
	md := f.Metadata()
	if !strings.HasPrefix(md.CreatedBy, "clawtrace version test") {
		t.Errorf("created_by = %q", md.CreatedBy)
	}
	if wantRG := (len(rows) + 15) / 16; len(md.RowGroups) != wantRG {
		t.Errorf("%d row groups, want %d (16 rows each)", len(md.RowGroups), wantRG)
	}
	for _, rg := range md.RowGroups {
		for _, c := range rg.Columns {
			if c.MetaData.Codec != format.Zstd {
				t.Fatalf("column %v: codec %v, want ZSTD", c.MetaData.PathInSchema, c.MetaData.Codec)
			}
		}
	}
	schema := f.Schema()
	for col, want := range map[string]string{
		"start":         "TIMESTAMP(isAdjustedToUTC=true,unit=MICROS)",
		"kind":          "ENUM",
		"inferred":      "LIST",
		"methods":       "MAP",
		"cost_usd":      "optional double",
		"off_path":      "required boolean",
		"output_tokens": "optional int64",
	} {
		var s string
		for _, fld := range schema.Fields() {
			if fld.Name() == col {
				s = parquet.NewSchema(col, parquet.Group{col: fld}).String()
			}
		}
		if !strings.Contains(s, want) {
			t.Errorf("column %s: schema %q lacks %q", col, s, want)
		}
	}
}

func pqJSON(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// pqCheckNulls asserts where usage and cost must be NULL.
func pqCheckNulls(t *testing.T, i int, sp *reconstruct.Span, r SpanRow) {
	t.Helper()
	chat := sp.Kind == reconstruct.KindLLM || sp.Kind == reconstruct.KindCompaction
	tokens := []*int64{r.InputTokens, r.OutputTokens, r.CacheReadTokens, r.CacheWriteTokens, r.PromptTokens}
	for _, p := range tokens {
		if (p != nil) != (chat && sp.Usage.Known) {
			t.Errorf("row %d (%s, usage known %v): token column null=%v", i, sp.Kind, sp.Usage.Known, p == nil)
		}
	}
	if (r.CostUSD != nil) != (chat && sp.Usage.Known && sp.Usage.Cost != nil) {
		t.Errorf("row %d (%s): cost_usd null=%v", i, sp.Kind, r.CostUSD == nil)
	}
	switch {
	case !chat && r.CostSource != nil:
		t.Errorf("row %d (%s): cost_source %q, want NULL", i, sp.Kind, *r.CostSource)
	case chat && r.CostSource == nil:
		t.Errorf("row %d (%s): cost_source NULL", i, sp.Kind)
	case chat && r.CostUSD == nil && *r.CostSource != CostSourceUnknown:
		t.Errorf("row %d: cost_source %q without a cost", i, *r.CostSource)
	}
	if (r.ParentSpanID == nil) != (sp.Kind == reconstruct.KindRun) {
		t.Errorf("row %d (%s): parent_span_id null=%v", i, sp.Kind, r.ParentSpanID == nil)
	}
	if sp.Kind != reconstruct.KindTool && (r.EmittedBySpanID != nil || r.ConsumedBySpanID != nil) {
		t.Errorf("row %d (%s): tool links on a non-tool span", i, sp.Kind)
	}
}

// pqSyntheticTrace has a run span without times and two LLM spans with edge
// case usage: known usage without cost, and a provider-billed cost.
func pqSyntheticTrace() reconstruct.Trace {
	tr := reconstruct.NewTraceID("a", "s", "run#1")
	start := time.Date(2026, 6, 1, 23, 59, 59, 999_999_999, time.FixedZone("x", 3600))
	spans := []reconstruct.Span{
		{Trace: tr, ID: reconstruct.NewSpanID(tr, "run"), Kind: reconstruct.KindRun, AgentID: "a", SessionID: "s"},
		{Trace: tr, ID: reconstruct.NewSpanID(tr, "llm"), Parent: reconstruct.NewSpanID(tr, "run"), Kind: reconstruct.KindLLM,
			AgentID: "a", SessionID: "s", Start: start, End: start.Add(1500 * time.Microsecond),
			Usage: ingest.Usage{Known: true, Input: 10, Output: 5, CacheRead: 100}},
		{Trace: tr, ID: reconstruct.NewSpanID(tr, "llm2"), Parent: reconstruct.NewSpanID(tr, "run"), Kind: reconstruct.KindLLM,
			AgentID: "a", SessionID: "s", Start: start, End: start,
			Usage: ingest.Usage{Known: true, Output: 7, Cost: &ingest.Cost{Total: 0.25, ProviderBilled: true}}},
	}
	return reconstruct.Trace{ID: tr, AgentID: "a", SessionID: "s", Spans: spans}
}

func TestParquetNulls(t *testing.T) {
	trace := pqSyntheticTrace()
	spans := trace.Spans
	start := spans[1].Start
	rows := []SpanRow{NewSpanRow(&spans[0]), NewSpanRow(&spans[1]), NewSpanRow(&spans[2])}
	run, llm, billed := rows[0], rows[1], rows[2]
	if run.Start != nil || run.End != nil || run.StartUnixNano != nil || run.DurationMS != nil || run.Date != nil {
		t.Errorf("zero times must be NULL: %+v", run)
	}
	if run.CostSource != nil || run.InputTokens != nil {
		t.Errorf("run span carries usage columns: %+v", run)
	}
	if run.Evidence != "[]" || run.Inferred == nil || run.Methods == nil {
		t.Errorf("empty evidence: %q %v %v", run.Evidence, run.Inferred, run.Methods)
	}
	if *llm.Date != "2026-06-01" || *llm.StartUnixNano != start.UnixNano() || *llm.DurationMS != 1.5 {
		t.Errorf("llm times: date %s, ns %d, duration %v", *llm.Date, *llm.StartUnixNano, *llm.DurationMS)
	}
	if llm.CostUSD != nil || *llm.CostSource != CostSourceUnknown || *llm.PromptTokens != 110 {
		t.Errorf("llm without cost: cost %v, source %s, prompt %d", llm.CostUSD, *llm.CostSource, *llm.PromptTokens)
	}
	if *billed.CostUSD != 0.25 || *billed.CostSource != CostSourceProviderBilled || *billed.InputTokens != 0 {
		t.Errorf("billed: %v %s %d", *billed.CostUSD, *billed.CostSource, *billed.InputTokens)
	}

	// Spans without a start go to the NULL partition.
	dir := t.TempDir()
	writeParquet(t, dir, []reconstruct.Trace{trace}, ParquetOptions{PartitionDay: true})
	files := parquetFiles(t, dir)
	want := []string{filepath.Join(dir, "date=2026-06-01", "spans-0.parquet"), filepath.Join(dir, "date="+hiveNullPartition, "spans-0.parquet")}
	slices.Sort(want)
	if !slices.Equal(files, want) {
		t.Fatalf("files %v, want %v", files, want)
	}
}

// pqShiftDays returns a deep enough copy of the traces with the spans of trace
// i moved by i%days days, so the fixtures span several dates in an
// interleaved order.
func pqShiftDays(traces []reconstruct.Trace, days int) []reconstruct.Trace {
	out := slices.Clone(traces)
	for i := range out {
		out[i].Spans = slices.Clone(out[i].Spans)
		d := time.Duration(i%days) * 24 * time.Hour
		for j := range out[i].Spans {
			sp := &out[i].Spans[j]
			if !sp.Start.IsZero() {
				sp.Start = sp.Start.Add(d)
			}
			if !sp.End.IsZero() {
				sp.End = sp.End.Add(d)
			}
		}
	}
	return out
}

func TestParquetPartitionDay(t *testing.T) {
	traces := pqShiftDays(parquetFixtureTraces(t), 4)
	want := pqModelTotals(traces)
	if len(want.ByDate) < 4 {
		t.Fatalf("want spans on at least 4 dates, got %v", want.ByDate)
	}
	dir := t.TempDir()
	// Leftovers of an earlier run: a stale part of a date written again is
	// removed; another date and unrelated files stay.
	var someDate string
	for d := range want.ByDate {
		someDate = max(someDate, d)
	}
	stale := filepath.Join(dir, "date="+someDate, "spans-99.parquet")
	staleTmp := filepath.Join(dir, "date="+someDate, ".spans-3.parquet.tmp") // a killed run's
	other := filepath.Join(dir, "date=1999-01-01", "spans-0.parquet")
	keep := filepath.Join(dir, "date="+someDate, "notes.txt")
	shard := filepath.Join(dir, "date="+someDate, "shard-2-of-3-spans-0.parquet") // another writer's
	for _, p := range []string{stale, staleTmp, other, keep, shard} {
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte("x"), 0o644); err != nil {
			t.Fatal(err)
		}
	}

	// Two open files for four interleaved dates: parts get closed and
	// reopened, and the batches are small enough to flush often.
	writeParquet(t, dir, traces, ParquetOptions{PartitionDay: true, MaxOpenFiles: 2, RowGroupRows: 8})
	for _, p := range []string{stale, staleTmp} {
		if _, err := os.Stat(p); !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("stale %s not removed (%v)", p, err)
		}
	}
	for _, p := range []string{other, keep, shard} {
		if _, err := os.Stat(p); err != nil {
			t.Errorf("unrelated file removed: %v", err)
		}
	}
	os.RemoveAll(filepath.Dir(other))
	os.Remove(shard)

	var all []SpanRow
	for _, p := range parquetFiles(t, dir) {
		rel, _ := filepath.Rel(dir, p)
		date, name, _ := strings.Cut(rel, string(filepath.Separator))
		date, ok := strings.CutPrefix(date, "date=")
		if !ok || !strings.HasPrefix(name, "spans-") {
			t.Errorf("unexpected file %s", rel)
			continue
		}
		rows, f := readParquetRows(t, p)
		if _, ok := f.Schema().Lookup("date"); ok {
			t.Errorf("%s: partitioned file has a date column", rel)
		}
		for i := range rows {
			rows[i].Date = &date
		}
		all = append(all, rows...)
	}
	pqCompareTotals(t, "partitioned", pqRowTotals(all), want)
}

func TestParquetDeterministic(t *testing.T) {
	traces := pqShiftDays(parquetFixtureTraces(t), 3)
	for _, opt := range []ParquetOptions{
		{Version: "v"},
		{Version: "v", RowGroupRows: 5},
		{Version: "v", PartitionDay: true, MaxOpenFiles: 1, RowGroupRows: 7},
	} {
		t.Run(fmt.Sprintf("%+v", opt), func(t *testing.T) {
			a, b := t.TempDir(), t.TempDir()
			writeParquet(t, a, traces, opt)
			writeParquet(t, b, traces, opt)
			fa, fb := parquetFiles(t, a), parquetFiles(t, b)
			if len(fa) != len(fb) || len(fa) == 0 {
				t.Fatalf("%d files vs %d", len(fa), len(fb))
			}
			for i := range fa {
				ra, _ := filepath.Rel(a, fa[i])
				rb, _ := filepath.Rel(b, fb[i])
				da, _ := os.ReadFile(fa[i])
				db, _ := os.ReadFile(fb[i])
				if ra != rb || !bytes.Equal(da, db) {
					t.Errorf("%s (%d bytes) differs from %s (%d bytes)", ra, len(da), rb, len(db))
				}
			}
		})
	}
}

func TestParquetEmptyAndAbort(t *testing.T) {
	dir := t.TempDir()
	writeParquet(t, dir, nil, ParquetOptions{})
	rows, f := readParquetRows(t, filepath.Join(dir, "spans.parquet"))
	if len(rows) != 0 || f.NumRows() != 0 {
		t.Errorf("empty output has %d rows", len(rows))
	}

	pdir := t.TempDir()
	writeParquet(t, pdir, nil, ParquetOptions{PartitionDay: true})
	if files := parquetFiles(t, pdir); len(files) != 0 {
		t.Errorf("partitioned empty output wrote %v", files)
	}

	traces := parquetFixtureTraces(t)
	for _, partition := range []bool{false, true} {
		adir := t.TempDir()
		w, err := NewParquetWriter(adir, ParquetOptions{PartitionDay: partition, MaxOpenFiles: 1})
		if err != nil {
			t.Fatal(err)
		}
		if err := w.Write(pqShiftDays(traces, 3)); err != nil {
			t.Fatal(err)
		}
		w.Abort()
		if err := w.Close(); err == nil {
			t.Error("Close after Abort succeeded")
		}
		if err := w.Write(traces); err == nil {
			t.Error("Write after Abort succeeded")
		}
		if files := parquetFiles(t, adir); len(files) != 0 {
			t.Errorf("aborted output left %v", files)
		}
	}
}

// duckDBScript returns how to run report/testdata/duckdb/query.mjs, or skips
// the test (fails with CLAWTRACE_REQUIRE_DUCKDB=1) when node or
// @duckdb/node-api is missing.
func duckDBScript(t *testing.T) (node, script string, env []string) {
	t.Helper()
	unavailable := func(format string, a ...any) {
		t.Helper()
		msg := fmt.Sprintf(format, a...) + "; install with: npm ci --prefix report/testdata/duckdb (see report/testdata/duckdb/README.md)"
		if os.Getenv("CLAWTRACE_REQUIRE_DUCKDB") == "1" {
			t.Fatal("CLAWTRACE_REQUIRE_DUCKDB=1: " + msg)
		}
		t.Skip(msg)
	}
	node, err := exec.LookPath("node")
	if err != nil {
		unavailable("DuckDB check unavailable: node not found")
	}
	script, err = filepath.Abs(filepath.Join("testdata", "duckdb", "query.mjs"))
	if err != nil {
		t.Fatal(err)
	}
	modDir := filepath.Dir(script)
	env = os.Environ()
	if d := os.Getenv("CLAWTRACE_DUCKDB_DIR"); d != "" {
		if modDir, err = filepath.Abs(d); err != nil {
			t.Fatal(err)
		}
		env = append(env, "CLAWTRACE_DUCKDB_DIR="+modDir)
	}
	if _, err := os.Stat(filepath.Join(modDir, "node_modules", "@duckdb", "node-api", "package.json")); err != nil {
		unavailable("DuckDB check unavailable: no node_modules/@duckdb/node-api in %s", modDir)
	}
	return node, script, env
}

// duckQuery runs sql in DuckDB and returns the rows; numbers and BIGINTs
// (which query.mjs prints as strings) come back as strings.
func duckQuery(t *testing.T, node, script string, env []string, sql string) []map[string]string {
	t.Helper()
	cmd := exec.CommandContext(t.Context(), node, script, sql)
	cmd.Env = env
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("duckdb %q: %v: %s", sql, err, stderr.String())
	}
	var raw []map[string]any
	dec := json.NewDecoder(bytes.NewReader(out))
	dec.UseNumber()
	if err := dec.Decode(&raw); err != nil {
		t.Fatalf("duckdb %q: %v: %s", sql, err, out)
	}
	rows := make([]map[string]string, len(raw))
	for i, r := range raw {
		rows[i] = map[string]string{}
		for k, v := range r {
			if v == nil {
				rows[i][k] = "NULL"
			} else {
				rows[i][k] = fmt.Sprint(v)
			}
		}
	}
	return rows
}

func TestParquetDuckDB(t *testing.T) {
	node, script, env := duckDBScript(t)
	traces := append(pqShiftDays(parquetFixtureTraces(t), 3), pqSyntheticTrace())
	want := pqModelTotals(traces)
	dir := t.TempDir()
	flat, hive := filepath.Join(dir, "flat"), filepath.Join(dir, "hive")
	writeParquet(t, flat, traces, ParquetOptions{Version: "test", RowGroupRows: 10})
	writeParquet(t, hive, traces, ParquetOptions{Version: "test", PartitionDay: true, MaxOpenFiles: 2})

	const sums = `SELECT count(*) AS n, count(input_tokens) AS usage_known, count(cost_usd) AS cost_known,
		coalesce(sum(input_tokens), 0)::BIGINT AS input, coalesce(sum(output_tokens), 0)::BIGINT AS output,
		coalesce(sum(cache_read_tokens), 0)::BIGINT AS cache_read, coalesce(sum(cache_write_tokens), 0)::BIGINT AS cache_write,
		coalesce(sum(prompt_tokens), 0)::BIGINT AS prompt, coalesce(sum(cost_usd), 0)::DOUBLE AS cost,
		count(*) FILTER (kind = 'tool') AS tools, count(*) FILTER (kind IN ('llm', 'compaction')) AS llm
		FROM %s`
	toTotals := func(r map[string]string) parquetTotals {
		n := func(k string) int64 {
			v, err := strconv.ParseInt(r[k], 10, 64)
			if err != nil {
				t.Fatalf("%s = %q: %v", k, r[k], err)
			}
			return v
		}
		cost, err := strconv.ParseFloat(r["cost"], 64)
		if err != nil {
			t.Fatalf("cost = %q: %v", r["cost"], err)
		}
		return parquetTotals{Cost: cost, parquetCounts: parquetCounts{Spans: n("n"), UsageKnown: n("usage_known"),
			CostKnown: n("cost_known"), Input: n("input"), Output: n("output"), CacheRead: n("cache_read"),
			CacheWrite: n("cache_write"), Prmt: n("prompt"), Tools: n("tools"), LLM: n("llm")}}
	}
	sqlPath := func(p string) string { return "'" + strings.ReplaceAll(filepath.ToSlash(p), "'", "''") + "'" }

	flatSrc := "read_parquet(" + sqlPath(filepath.Join(flat, "spans.parquet")) + ")"
	hiveSrc := "read_parquet(" + sqlPath(filepath.Join(hive, "*", "*.parquet")) + ", hive_partitioning = true)"
	for _, src := range []string{flatSrc, hiveSrc} {
		rows := duckQuery(t, node, script, env, fmt.Sprintf(sums, src))
		got := toTotals(rows[0])
		t.Logf("duckdb over %s: %+v", src, got)
		pqCompareTotals(t, "duckdb "+src, got, want)

		// Rows per date, from the column and (hive) the directory.
		byDate := map[string]int64{}
		for _, r := range duckQuery(t, node, script, env, "SELECT CAST(date AS VARCHAR) AS d, count(*) AS n FROM "+src+" GROUP BY ALL") {
			n, _ := strconv.ParseInt(r["n"], 10, 64)
			d := r["d"]
			if d == "NULL" {
				d = hiveNullPartition
			}
			byDate[d] = n
		}
		if fmt.Sprint(byDate) != fmt.Sprint(want.ByDate) {
			t.Errorf("duckdb %s: rows by date %v, want %v", src, byDate, want.ByDate)
		}
	}

	// Cost by day and model (docs/parquet.md). Over the hive layout this
	// query hit a DuckDB internal error while the files also had a VARCHAR
	// date column next to the DATE partition column.
	for _, src := range []string{flatSrc, hiveSrc} {
		var calls int64
		var cost float64
		for _, r := range duckQuery(t, node, script, env, `SELECT date, model, count(*) AS calls, coalesce(sum(cost_usd), 0)::DOUBLE AS cost
			FROM `+src+` WHERE kind IN ('llm', 'compaction') GROUP BY ALL ORDER BY ALL`) {
			n, _ := strconv.ParseInt(r["calls"], 10, 64)
			c, _ := strconv.ParseFloat(r["cost"], 64)
			calls += n
			cost += c
		}
		if calls != want.LLM || !pqCloseEnough(cost, want.Cost) {
			t.Errorf("duckdb cost by day and model over %s: %d calls, %v USD; want %d, %v", src, calls, cost, want.LLM, want.Cost)
		}
	}

	// Types as DuckDB sees them.
	types := map[string]string{}
	for _, r := range duckQuery(t, node, script, env, "SELECT column_name, column_type FROM (DESCRIBE SELECT * FROM "+flatSrc+")") {
		types[r["column_name"]] = r["column_type"]
	}
	for col, typ := range map[string]string{
		"start": "TIMESTAMP WITH TIME ZONE", "start_unix_nano": "BIGINT", "duration_ms": "DOUBLE",
		"input_tokens": "BIGINT", "cost_usd": "DOUBLE", "inferred": "VARCHAR[]", "methods": "MAP(VARCHAR, VARCHAR)",
		"off_path": "BOOLEAN", "kind": "VARCHAR", "evidence": "VARCHAR", "date": "VARCHAR",
	} {
		if types[col] != typ {
			t.Errorf("duckdb type of %s = %q, want %q", col, types[col], typ)
		}
	}

	// Map lookup, JSON evidence, NULL parent only on roots, timestamps.
	r := duckQuery(t, node, script, env, `SELECT
		count(*) FILTER (methods['start'] IS NOT NULL) AS with_start_method,
		count(*) FILTER (json_array_length(evidence::JSON) = 0) AS no_evidence,
		count(*) FILTER (parent_span_id IS NULL) AS roots,
		count(*) FILTER (kind = 'run') AS runs,
		count(*) FILTER (epoch_us(start) * 1000 != start_unix_nano - start_unix_nano % 1000) AS bad_start,
		count(*) FILTER (kind NOT IN ('llm', 'compaction') AND (cost_source IS NOT NULL OR input_tokens IS NOT NULL)) AS usage_on_others
		FROM `+flatSrc)[0]
	if r["roots"] != r["runs"] || r["bad_start"] != "0" || r["usage_on_others"] != "0" || r["with_start_method"] == "0" {
		t.Errorf("duckdb checks: %v", r)
	}
	meta := duckQuery(t, node, script, env, "SELECT DISTINCT compression FROM parquet_metadata("+sqlPath(filepath.Join(flat, "spans.parquet"))+")")
	if len(meta) != 1 || meta[0]["compression"] != "ZSTD" {
		t.Errorf("duckdb compression: %v", meta)
	}
}
