package report

import (
	"bytes"
	"cmp"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/parquet-go/parquet-go"

	"github.com/clawtrace/clawtrace/reconstruct"
)

// ParquetSchemaVersion is stored in every file's key/value metadata under
// "clawtrace.schema". A change that renames, removes or retypes a column
// bumps it; docs/parquet.md describes each version.
const ParquetSchemaVersion = "spans/v1"

// Defaults of ParquetOptions.
const (
	DefaultParquetRowGroupRows = 32 * 1024
	DefaultParquetMaxOpenFiles = 8
)

// Buffering: rows wait in a per-file batch and go to the parquet writer
// parquetBatchRows at a time; at most parquetMaxPending rows wait in all.
const (
	parquetBatchRows  = 1024
	parquetMaxPending = 16 * 1024
)

// Values of the cost_source column.
const (
	CostSourceRecorded       = "recorded"        // usage.cost as OpenClaw recorded it (its price-table estimate)
	CostSourceProviderBilled = "provider_billed" // usage.cost with totalOrigin "provider-billed"
	CostSourceUnknown        = "unknown"         // no usage, or usage without a cost: cost_usd is NULL
)

// hiveNullPartition is the directory value Hive, Spark and Trino read as a
// NULL partition key. It holds spans whose start is unknown.
const hiveNullPartition = "__HIVE_DEFAULT_PARTITION__"

// SpanRow is one row of the spans table. Pointer fields are nullable: nil
// is written as NULL and means "unknown" or "does not apply to this kind",
// never zero. docs/parquet.md documents every column.
//
// N.B. keep the struct flat: parquet-go v0.32.0's GenericReader fills the
// pointer fields of an embedded struct with pointers to zero values where
// the file has NULL.
type SpanRow struct {
	TraceID       string  `parquet:"trace_id"`
	SpanID        string  `parquet:"span_id"`
	ParentSpanID  *string `parquet:"parent_span_id"`
	Kind          string  `parquet:"kind,dict,enum"`
	Name          string  `parquet:"name,dict"`
	AgentID       string  `parquet:"agent_id,dict"`
	SessionID     string  `parquet:"session_id,dict"`
	SessionKey    *string `parquet:"session_key,dict"`
	RunID         *string `parquet:"run_id,dict"`
	Model         *string `parquet:"model,dict"`
	Provider      *string `parquet:"provider,dict"`
	ResponseModel *string `parquet:"response_model,dict"`
	ToolName      *string `parquet:"tool_name,dict"`
	ToolCallID    *string `parquet:"tool_call_id"`

	Start         *time.Time `parquet:"start,timestamp(microsecond)"`
	End           *time.Time `parquet:"end,timestamp(microsecond)"`
	StartUnixNano *int64     `parquet:"start_unix_nano"`
	DurationMS    *float64   `parquet:"duration_ms"`

	Status        string  `parquet:"status,dict,enum"`
	StatusMessage *string `parquet:"status_message"`

	InputTokens      *int64   `parquet:"input_tokens"`
	OutputTokens     *int64   `parquet:"output_tokens"`
	CacheReadTokens  *int64   `parquet:"cache_read_tokens"`
	CacheWriteTokens *int64   `parquet:"cache_write_tokens"`
	PromptTokens     *int64   `parquet:"prompt_tokens"`
	CostUSD          *float64 `parquet:"cost_usd"`
	CostSource       *string  `parquet:"cost_source,dict"`

	Confidence float64           `parquet:"confidence"`
	Inferred   []string          `parquet:"inferred,list"`
	Methods    map[string]string `parquet:"methods"`
	Evidence   string            `parquet:"evidence"`
	OffPath    bool              `parquet:"off_path"`

	EmittedBySpanID  *string `parquet:"emitted_by_span_id"`
	ConsumedBySpanID *string `parquet:"consumed_by_span_id"`
	ChildSessionID   *string `parquet:"child_session_id"`

	// Date is the UTC date of Start, YYYY-MM-DD; nil when Start is unknown.
	// N.B. partitioned files leave it out (dropDateColumn): the partition
	// directory (date=YYYY-MM-DD) holds it, as Hive, Spark and Trino
	// expect. With it in both places DuckDB 1.5.6 fails with "INTERNAL
	// Error: Unsupported type for NumericValueUnionToValue" on some GROUP
	// BY queries, as its hive column is a DATE and the file column a
	// VARCHAR.
	Date *string `parquet:"date,dict"`
}

// dropDateColumn leaves SpanRow.Date out of the schema. A StructTag keeps
// the writer on its fast path, which writes map entries in sorted key
// order; a schema that differs from the type's would not.
var dropDateColumn = parquet.StructTag(`parquet:"-"`, "Date")

// pqEvidenceJSON is one element of the evidence column.
type pqEvidenceJSON struct {
	Field      string   `json:"field"`
	Method     string   `json:"method"`
	Confidence float64  `json:"confidence"`
	Sources    []string `json:"sources,omitempty"`
	Note       string   `json:"note,omitempty"`
}

// NewSpanRow converts one span to its row. It copies what the model says and
// infers nothing:
//
//   - Usage columns are set only on llm and compaction spans whose usage is
//     known; cost_usd only when a cost was recorded. cost_source is NULL on
//     run and tool spans.
//   - start, end, start_unix_nano, duration_ms and date are NULL when the
//     span's start or end is the zero time.
//   - methods maps each evidence field to the method of its first evidence
//     record; evidence holds all records, in the span's order.
//   - Empty strings become NULL in the nullable string columns.
func NewSpanRow(sp *reconstruct.Span) SpanRow {
	r := SpanRow{
		TraceID:       sp.Trace.String(),
		SpanID:        sp.ID.String(),
		Kind:          sp.Kind.String(),
		Name:          sp.Name,
		AgentID:       sp.AgentID,
		SessionID:     sp.SessionID,
		SessionKey:    pqOptString(sp.SessionKey),
		RunID:         pqOptString(sp.RunID),
		Model:         pqOptString(sp.Model),
		Provider:      pqOptString(sp.Provider),
		ResponseModel: pqOptString(sp.ResponseModel),
		ToolName:      pqOptString(sp.ToolName),
		ToolCallID:    pqOptString(sp.ToolCallID),
		Status:        sp.Status.String(),
		StatusMessage: pqOptString(sp.StatusMessage),
		Confidence:    sp.Confidence,
		Inferred:      slices.Clone(sp.Inferred),
		Methods:       make(map[string]string, len(sp.Evidence)),
		Evidence:      pqEvidence(sp.Evidence),
		OffPath:       sp.OffPath,
	}
	if r.Inferred == nil {
		r.Inferred = []string{}
	}
	if !sp.Parent.IsZero() {
		r.ParentSpanID = pqPtr(sp.Parent.String())
	}
	if !sp.Start.IsZero() {
		start := sp.Start.UTC()
		r.Start = &start
		r.StartUnixNano = pqPtr(start.UnixNano())
		r.Date = pqPtr(start.Format(time.DateOnly))
	}
	if !sp.End.IsZero() {
		end := sp.End.UTC()
		r.End = &end
	}
	if r.Start != nil && r.End != nil {
		r.DurationMS = pqPtr(float64(sp.End.Sub(sp.Start)) / float64(time.Millisecond))
	}
	if sp.Kind == reconstruct.KindLLM || sp.Kind == reconstruct.KindCompaction {
		r.CostSource = pqPtr(CostSourceUnknown)
		if u := &sp.Usage; u.Known {
			r.InputTokens = pqPtr(u.Input)
			r.OutputTokens = pqPtr(u.Output)
			r.CacheReadTokens = pqPtr(u.CacheRead)
			r.CacheWriteTokens = pqPtr(u.CacheWrite)
			r.PromptTokens = pqPtr(u.Input + u.CacheRead + u.CacheWrite)
			if c := u.Cost; c != nil {
				r.CostUSD = pqPtr(c.Total)
				r.CostSource = pqPtr(CostSourceRecorded)
				if c.ProviderBilled {
					r.CostSource = pqPtr(CostSourceProviderBilled)
				}
			}
		}
	}
	for _, e := range sp.Evidence {
		if _, ok := r.Methods[e.Field]; !ok {
			r.Methods[e.Field] = e.Method
		}
	}
	if l, ok := sp.Link("emitted_by"); ok {
		r.EmittedBySpanID = pqPtr(l.Span.String())
	}
	if l, ok := sp.Link("consumed_by"); ok {
		r.ConsumedBySpanID = pqPtr(l.Span.String())
	}
	r.ChildSessionID = pqOptString(sp.ChildSessionID)
	return r
}

func pqPtr[T any](v T) *T { return &v }

func pqOptString(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

// pqEvidence encodes the evidence as compact JSON; "[]" when there is none.
func pqEvidence(evs []reconstruct.Evidence) string {
	out := make([]pqEvidenceJSON, len(evs))
	for i, e := range evs {
		out[i] = pqEvidenceJSON{Field: e.Field, Method: e.Method, Confidence: e.Confidence, Note: e.Note}
		for _, s := range e.Sources {
			out[i].Sources = append(out[i].Sources, s.String())
		}
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(out); err != nil {
		panic("invariant violation: encoding evidence: " + err.Error())
	}
	return strings.TrimSuffix(buf.String(), "\n")
}

// ParquetOptions configure a ParquetWriter. The zero value writes one
// unpartitioned file with the default row group size.
type ParquetOptions struct {
	// PartitionDay writes a Hive-style layout, date=YYYY-MM-DD/spans-<k>.parquet,
	// by the UTC date of each span's start, instead of one spans.parquet.
	// Spans without a start go to date=__HIVE_DEFAULT_PARTITION__ (read as
	// NULL). The files then have no date column: the directory name is
	// the date column.
	PartitionDay bool
	// RowGroupRows caps the rows of a row group; it bounds the memory each
	// open file holds. 0 means DefaultParquetRowGroupRows.
	RowGroupRows int
	// MaxOpenFiles caps the files open at once when partitioning; 0 means
	// DefaultParquetMaxOpenFiles.
	MaxOpenFiles int
	// Version is the clawtrace version recorded in the files' created_by.
	Version string
	// FilePrefix starts every file name (e.g. "shard-2-of-3-"), so that
	// writers of one dataset — the shards of a scale-out — never overwrite
	// or remove each other's files.
	FilePrefix string
}

// tmpPath is where the file for path is written before it is renamed.
func tmpPath(path string) string {
	return filepath.Join(filepath.Dir(path), "."+filepath.Base(path)+".tmp")
}

// ParquetWriter writes spans as Parquet: one row per span, zstd-compressed,
// with the schema of SpanRow. It is not safe for concurrent use.
//
// Files are written as .<name>.tmp (hidden: Spark, Trino and Hive skip
// names starting with a dot) and renamed into place by Close, so a
// reader never sees a partial file; after any error, or Abort, the temporary
// files are removed and nothing is renamed.
//
// Output is byte-identical for the same input: rows keep their input order
// within each file, part numbers follow from the input order, and nothing
// depends on the clock or the environment.
//
// When partitioning, each date written is replaced as a whole: Close removes
// part files of that date left by an earlier run beyond the parts it wrote.
// Dates it did not write are left alone.
type ParquetWriter struct {
	dir   string
	opt   ParquetOptions
	files map[string]*parquetPart // partition key ("" unpartitioned) → open part
	parts map[string]int          // partition key → parts started so far
	done  []*parquetPart          // closed parts awaiting rename
	open  int
	tick  uint64
	// pending counts the rows waiting in all parts' batches.
	pending int
	err     error
	closed  bool
}

// parquetPart is one output file and the rows waiting to go into it. A part
// with f == nil has rows waiting but no file open yet (or any more).
type parquetPart struct {
	key   string
	path  string // final path; the temp file is tmpPath(path)
	f     *os.File
	w     *parquet.GenericWriter[SpanRow] // while the file is open
	batch []SpanRow
	used  uint64
}

// NewParquetWriter returns a writer into dir, creating dir if needed.
// Without PartitionDay it writes dir/spans.parquet, also when no span is
// written; with PartitionDay it writes one directory per date seen.
func NewParquetWriter(dir string, opt ParquetOptions) (*ParquetWriter, error) {
	if opt.RowGroupRows <= 0 {
		opt.RowGroupRows = DefaultParquetRowGroupRows
		if opt.PartitionDay {
			// Up to MaxOpenFiles row groups are in memory at once.
			opt.RowGroupRows /= 4
		}
	}
	if opt.MaxOpenFiles <= 0 {
		opt.MaxOpenFiles = DefaultParquetMaxOpenFiles
	}
	if opt.Version == "" {
		opt.Version = "unknown"
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("parquet output: %w", err)
	}
	w := &ParquetWriter{dir: dir, opt: opt, files: map[string]*parquetPart{}, parts: map[string]int{}}
	if !opt.PartitionDay {
		w.files[""] = &parquetPart{key: "", path: filepath.Join(dir, opt.FilePrefix+"spans.parquet")}
	}
	return w, nil
}

// Write appends one row per span of the traces, in order. After an error
// every later call returns it; call Close (or Abort) to remove the
// temporary files.
func (w *ParquetWriter) Write(traces []reconstruct.Trace) error {
	if w.err != nil {
		return w.err
	}
	if w.closed {
		return errors.New("parquet output: write after close")
	}
	for i := range traces {
		for j := range traces[i].Spans {
			row := NewSpanRow(&traces[i].Spans[j])
			if err := w.add(row); err != nil {
				return w.fail(err)
			}
		}
	}
	return nil
}

// add queues a row in its part's batch and flushes batches that are full, or
// the largest batch when too many rows wait.
func (w *ParquetWriter) add(row SpanRow) error {
	key := ""
	if w.opt.PartitionDay {
		key = hiveNullPartition
		if row.Date != nil {
			key = *row.Date
		}
	}
	p := w.files[key]
	if p == nil {
		p = &parquetPart{key: key}
		w.files[key] = p
	}
	p.batch = append(p.batch, row)
	w.pending++
	if len(p.batch) >= parquetBatchRows {
		return w.flush(p)
	}
	if w.pending >= parquetMaxPending {
		// Largest batch first; ties by key so the part layout is
		// deterministic.
		var big *parquetPart
		for _, k := range slices.Sorted(maps.Keys(w.files)) {
			if q := w.files[k]; big == nil || len(q.batch) > len(big.batch) {
				big = q
			}
		}
		return w.flush(big)
	}
	return nil
}

// flush writes p's batch to its file, opening one first if needed.
func (w *ParquetWriter) flush(p *parquetPart) error {
	if p.f == nil {
		if err := w.openPart(p); err != nil {
			return err
		}
	}
	w.tick++
	p.used = w.tick
	if len(p.batch) == 0 {
		return nil
	}
	if _, err := p.w.Write(p.batch); err != nil {
		return fmt.Errorf("parquet output: writing %s: %w", w.rel(p.path), err)
	}
	w.pending -= len(p.batch)
	clear(p.batch) // drop references to the rows' strings
	p.batch = p.batch[:0]
	return nil
}

// openPart starts a new file for p's key, closing the least recently used
// file first when MaxOpenFiles are open. An unpartitioned writer has one
// part and never reopens it.
func (w *ParquetWriter) openPart(p *parquetPart) error {
	if w.opt.PartitionDay && w.open >= w.opt.MaxOpenFiles {
		var lru *parquetPart
		for _, q := range w.files {
			if q.f != nil && (lru == nil || q.used < lru.used) {
				lru = q
			}
		}
		if err := w.closePart(lru); err != nil {
			return err
		}
	}
	if w.opt.PartitionDay {
		k := w.parts[p.key]
		w.parts[p.key] = k + 1
		dir := filepath.Join(w.dir, "date="+p.key)
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return fmt.Errorf("parquet output: %w", err)
		}
		p.path = filepath.Join(dir, w.opt.FilePrefix+"spans-"+strconv.Itoa(k)+".parquet")
	}
	f, err := os.OpenFile(tmpPath(p.path), os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o644)
	if err != nil {
		return fmt.Errorf("parquet output: %w", err)
	}
	p.f = f
	opts := []parquet.WriterOption{
		parquet.Compression(&parquet.Zstd),
		parquet.MaxRowsPerRowGroup(int64(w.opt.RowGroupRows)),
		parquet.CreatedBy("clawtrace", w.opt.Version, ""),
		parquet.KeyValueMetadata("clawtrace.schema", ParquetSchemaVersion),
	}
	if w.opt.PartitionDay {
		opts = append(opts, dropDateColumn)
	}
	p.w = parquet.NewGenericWriter[SpanRow](f, opts...)
	w.open++
	return nil
}

// closePart finishes p's file (footer, close) and queues it for renaming.
// Rows still in p's batch stay there for the next part of the same key.
func (w *ParquetWriter) closePart(p *parquetPart) error {
	err := p.w.Close() // N.B. does not close the file
	if err == nil {
		err = p.f.Sync() // on disk before it is renamed into place
	}
	if cerr := p.f.Close(); err == nil {
		err = cerr
	}
	w.done = append(w.done, &parquetPart{key: p.key, path: p.path})
	p.f, p.w = nil, nil
	w.open--
	// Keep no idle buffers for dates that may not come back.
	p.batch = slices.Clone(p.batch)
	if w.opt.PartitionDay && len(p.batch) == 0 {
		delete(w.files, p.key)
	}
	if err != nil {
		return fmt.Errorf("parquet output: closing %s: %w", w.rel(p.path), err)
	}
	return nil
}

// Close flushes the waiting rows, finishes every file and renames the
// temporary files into place, in sorted order. It returns the first error
// of Write or Close; then no file was renamed and the temporary files are
// gone. Close is idempotent.
func (w *ParquetWriter) Close() error {
	if w.closed {
		return w.err
	}
	if w.err != nil {
		w.Abort()
		return w.err
	}
	keys := slices.Sorted(maps.Keys(w.files))
	for _, k := range keys {
		// N.B. a flush may close and forget another date's part.
		if p := w.files[k]; p != nil && (len(p.batch) > 0 || (!w.opt.PartitionDay && p.f == nil)) {
			if err := w.flush(p); err != nil {
				w.fail(err)
				return w.Close()
			}
		}
	}
	for _, k := range keys {
		if p := w.files[k]; p != nil && p.f != nil {
			if err := w.closePart(p); err != nil {
				w.fail(err)
				return w.Close()
			}
		}
	}
	w.closed = true
	slices.SortFunc(w.done, func(a, b *parquetPart) int { return cmp.Compare(a.path, b.path) })
	for i, p := range w.done {
		if err := os.Rename(tmpPath(p.path), p.path); err != nil {
			for _, q := range w.done[i:] {
				os.Remove(tmpPath(q.path))
			}
			w.err = fmt.Errorf("parquet output: %w", err)
			return w.err
		}
	}
	if w.opt.PartitionDay {
		if err := w.removeStaleParts(); err != nil {
			w.err = err
		}
	}
	return w.err
}

// Abort closes every file and removes the temporary files; nothing is
// renamed into place. It is a no-op after Close.
func (w *ParquetWriter) Abort() {
	if w.closed {
		return
	}
	w.closed = true
	if w.err == nil {
		w.err = errors.New("parquet output: aborted")
	}
	for _, k := range slices.Sorted(maps.Keys(w.files)) {
		p := w.files[k]
		if p.f != nil {
			p.w.Close()
			p.f.Close()
			os.Remove(tmpPath(p.path))
			p.f, p.w = nil, nil
		}
	}
	for _, p := range w.done {
		os.Remove(tmpPath(p.path))
	}
	w.done = nil
}

func (w *ParquetWriter) fail(err error) error {
	if w.err == nil {
		w.err = err
	}
	return w.err
}

// removeStaleParts removes spans-<k>.parquet files, left by an earlier run,
// whose k is beyond the parts this run wrote for the same date.
func (w *ParquetWriter) removeStaleParts() error {
	for _, key := range slices.Sorted(maps.Keys(w.parts)) {
		dir := filepath.Join(w.dir, "date="+key)
		ents, err := os.ReadDir(dir)
		if err != nil {
			return fmt.Errorf("parquet output: %w", err)
		}
		for _, e := range ents {
			if strings.HasPrefix(e.Name(), "."+w.opt.FilePrefix+"spans-") && strings.HasSuffix(e.Name(), ".tmp") {
				// Left by a run that was killed before it could clean up.
				if err := os.Remove(filepath.Join(dir, e.Name())); err != nil {
					return fmt.Errorf("parquet output: removing a stale temporary file: %w", err)
				}
				continue
			}
			s, ok := strings.CutPrefix(e.Name(), w.opt.FilePrefix+"spans-")
			if !ok {
				continue
			}
			s, ok = strings.CutSuffix(s, ".parquet")
			k, err := strconv.Atoi(s)
			if !ok || err != nil || k < w.parts[key] || strconv.Itoa(k) != s {
				continue
			}
			if err := os.Remove(filepath.Join(dir, e.Name())); err != nil {
				return fmt.Errorf("parquet output: removing stale part: %w", err)
			}
		}
	}
	return nil
}

// Files returns the final paths of the files written, sorted; valid after a
// successful Close.
func (w *ParquetWriter) Files() []string {
	out := make([]string, 0, len(w.done))
	for _, p := range w.done {
		out = append(out, p.path)
	}
	return out
}

// rel names a path relative to the output directory in error messages.
func (w *ParquetWriter) rel(p string) string {
	if r, err := filepath.Rel(w.dir, p); err == nil {
		return r
	}
	return p
}
