// Package reconstruct is the matcher: it turns the entries and evidence
// events of one ingest.Session into traces — one per agent run — of the
// shape run → LLM call → tool call(s) → LLM call → …, with a confidence in
// [0,1] and the evidence behind every inferred span and field.
//
// Contract:
//
//   - Input: one *ingest.Session at a time (Session). Memory is bounded by
//     that session.
//   - Output: []Trace in run order; each Trace has its run span first, then
//     its spans by (start, kind, id). Trace and span ids are hashes of stable
//     source ids, so the same input gives the same ids on every run and for
//     any GOMAXPROCS.
//   - Usage lives only on LLM (chat) and compaction spans; nothing is summed
//     onto parents.
//   - The rules, their methods and confidence values are listed in
//     docs/reconstruction.md.
package reconstruct
