// Package ingest discovers what OpenClaw leaves on disk and stream-parses it
// into typed, normalized events: transcripts (JSONL files of the 2026.7.x era,
// rows of the per-agent SQLite store since 2026.8), their archives, the
// sessions index, hook dumps and the trajectory sidecar.
//
// Contract:
//
//   - Input: paths (state dirs, agent dirs, sessions dirs, databases,
//     single transcripts, "-" for stdin). See Discover.
//   - Output: one *Session at a time, in a deterministic order (agent id,
//     then session id), each holding every distinct entry of that session
//     across all of its copies (live file, SQLite rows, archives), deduped by
//     entry id and message time. Memory is bounded by the largest session,
//     not by the corpus.
//   - Nothing here infers anything: timestamps are kept exactly as written
//     (entry append time and message time stay distinct), unknown entry types
//     and fields are kept or counted, and bad lines become *LineError values
//     that are reported and skipped.
//   - Input files are opened read-only and never locked; SQLite databases are
//     opened with mode=ro and query_only so a live gateway can keep writing
//     (immutable=1 only as a fallback when a read-only open fails).
package ingest
