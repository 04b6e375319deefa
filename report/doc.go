// Package report writes reconstructed traces: OTLP JSON files and OTLP/HTTP
// pushes, Parquet tables, cost tables and other summaries.
//
// Contract:
//
//   - Input: []reconstruct.Trace, usually one session's worth at a time, so
//     memory stays bounded by the largest session (or export batch).
//   - Writers take an io.Writer and one options struct; they never open,
//     rename or close files (cmd/clawtrace does the atomic temp-file +
//     rename).
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
