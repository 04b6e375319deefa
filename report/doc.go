// Package report writes reconstructed traces: OTLP JSON files and OTLP/HTTP
// pushes, Parquet tables, cost attribution tables, CI baselines and checks,
// and the HTML waterfall page.
//
// Contract:
//
//   - Input: []reconstruct.Trace, usually one session's worth at a time, so
//     memory stays bounded by the largest session (or export batch).
//   - Stream writers take an io.Writer and one options struct and never
//     open files (cmd/clawtrace does the atomic temp-file + rename). The one
//     exception is ParquetWriter, which owns a directory of files (one per
//     day partition) and writes each atomically itself.
//   - Output is byte-deterministic: the same traces and options give the
//     same bytes. Nothing depends on map order, the wall clock, the host or
//     GOMAXPROCS.
//   - Nothing here re-infers anything: every value comes from the trace
//     model (reconstruct), including the confidence and evidence of each
//     span. Usage and cost appear only on the spans that carry them (LLM and
//     compaction calls) and are never summed onto parents.
//   - pdata (ptrace) types appear only in this package.
//
// The OTLP span and attribute layout is documented in docs/otlp.md.
package report
