package main

import (
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"slices"
	"strconv"

	"github.com/olekukonko/tablewriter"
	"github.com/olekukonko/tablewriter/tw"
	"github.com/spf13/cobra"

	"github.com/clawtrace/clawtrace/ingest"
	"github.com/clawtrace/clawtrace/reconstruct"
)

type scanCounts struct {
	Agent            string `json:"agent,omitempty"`
	Sessions         int    `json:"sessions"`
	Runs             int    `json:"runs"`
	LLMCalls         int    `json:"llm_calls"`
	SyntheticMsgs    int    `json:"synthetic_assistant_messages"`
	ToolCalls        int    `json:"tool_calls"`
	ToolResults      int    `json:"tool_results"`
	HookEvents       int    `json:"hook_events"`
	Entries          int    `json:"entries"`
	DuplicateEntries int    `json:"duplicate_entries"`
	ArchivedCopies   int    `json:"archived_copies"`
	DeletedSessions  int    `json:"deleted_sessions"`
	SkippedLines     int    `json:"skipped_lines"`
}

func (a *scanCounts) add(b scanCounts) {
	a.Sessions += b.Sessions
	a.Runs += b.Runs
	a.LLMCalls += b.LLMCalls
	a.SyntheticMsgs += b.SyntheticMsgs
	a.ToolCalls += b.ToolCalls
	a.ToolResults += b.ToolResults
	a.HookEvents += b.HookEvents
	a.Entries += b.Entries
	a.DuplicateEntries += b.DuplicateEntries
	a.ArchivedCopies += b.ArchivedCopies
	a.DeletedSessions += b.DeletedSessions
	a.SkippedLines += b.SkippedLines
}

type scanResult struct {
	SchemaVersion int `json:"schema_version"`
	Agents        int `json:"agents"`
	scanCounts
	HookEventsUnattributed int            `json:"hook_events_unattributed"`
	HookLinesSkipped       int            `json:"hook_lines_skipped"`
	SkippedFiles           int            `json:"skipped_files"` // inputs found but not read, or not to the end
	TimelineEvents         int            `json:"timeline_events"`
	SkippedReasons         map[string]int `json:"skipped_reasons"`
	EntryTypes             map[string]int `json:"entry_types"`
	Inputs                 map[string]int `json:"inputs"`
	ByAgent                []scanCounts   `json:"by_agent"`
}

func newScanCmd(stdio IO) *cobra.Command {
	var f inputFlags
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "scan [paths...]",
		Short: "Show what OpenClaw data the inputs hold",
		Long: `scan reads the inputs and reports what it found per agent and in total:
sessions, runs, LLM calls (assistant messages; the fragments of one split
response count once), tool calls, tool results, hook events, archived
copies and the entries they duplicated (counted once), and the lines that
were skipped, with reasons. Nothing is written.`,
		Example: `  clawtrace scan ~/.openclaw
  clawtrace scan --json state/ hooks.jsonl
  cat session.jsonl | clawtrace scan -`,
		RunE: func(cmd *cobra.Command, args []string) error {
			p, err := openPipeline(args, &f, stdio, ingest.ParseOptions{})
			if err != nil {
				return err
			}
			res := scanResult{SchemaVersion: 1, EntryTypes: map[string]int{}, SkippedReasons: p.Reasons}
			byAgent := map[string]*scanCounts{}
			err = p.each(cmd.Context(), func(s *ingest.Session, traces []reconstruct.Trace) error {
				a := byAgent[s.AgentID]
				if a == nil {
					a = &scanCounts{Agent: s.AgentID}
					byAgent[s.AgentID] = a
				}
				cnt := s.Count()
				c := scanCounts{Sessions: 1, Runs: len(traces), LLMCalls: cnt.LLMCalls, SyntheticMsgs: cnt.Synthetic, ToolCalls: cnt.ToolCalls,
					ToolResults: cnt.ToolResults, HookEvents: len(s.Hooks), Entries: cnt.Entries,
					DuplicateEntries: s.DupEntries(), SkippedLines: s.SkippedLines}
				if s.Deleted {
					c.DeletedSessions = 1
				}
				// Copies read besides the first (archives, the JSONL export of
				// a database, backups), counted as report's footer counts them.
				c.ArchivedCopies = max(len(s.Copies)-1, 0)
				for k, v := range cnt.ByType {
					res.EntryTypes[k] += v
				}
				a.add(c)
				return nil
			})
			if err != nil {
				return err
			}
			st := p.corpus.Stats()
			for _, k := range slices.Sorted(maps.Keys(byAgent)) {
				res.ByAgent = append(res.ByAgent, *byAgent[k])
				res.scanCounts.add(*byAgent[k])
			}
			if res.ByAgent == nil {
				res.ByAgent = []scanCounts{}
			}
			res.Agents = len(byAgent)
			res.HookEventsUnattributed = st.HookUnattributed
			res.HookEvents += st.HookUnattributed
			res.HookLinesSkipped = st.HookSkipped
			res.TimelineEvents = st.TimelineLines
			// The pipeline's count: the sessions' skipped lines, those of
			// transcripts that gave nothing (not sessions) and the hook
			// dumps'.
			res.SkippedLines = p.Skipped
			res.SkippedFiles = p.SkippedFiles
			inv := p.corpus.Inv
			res.Inputs = map[string]int{"transcript_sources": len(inv.Transcripts), "databases": len(inv.Databases),
				"indexes": len(inv.Indexes), "hook_dumps": len(inv.Hooks), "trajectories": len(inv.Trajectories), "timelines": len(inv.Timelines), "index_rows": st.IndexRows}
			if asJSON {
				enc := json.NewEncoder(stdio.Out)
				enc.SetIndent("", "  ")
				if err := enc.Encode(res); err != nil {
					return err
				}
			} else if err := writeScanTable(stdio.Out, &res); err != nil {
				return err
			}
			return p.finish()
		},
	}
	f.register(cmd)
	cmd.Flags().BoolVar(&asJSON, "json", false, "print one JSON object instead of a table")
	return cmd
}

func writeScanTable(w io.Writer, r *scanResult) error {
	right := tw.CellAlignment{PerColumn: []tw.Align{tw.AlignLeft, tw.AlignRight, tw.AlignRight, tw.AlignRight, tw.AlignRight, tw.AlignRight, tw.AlignRight, tw.AlignRight, tw.AlignRight}}
	t := tablewriter.NewTable(w,
		tablewriter.WithHeaderAutoFormat(tw.Off),
		tablewriter.WithRowAlignmentConfig(right),
		tablewriter.WithFooterAlignmentConfig(right))
	t.Header("agent", "sessions", "runs", "llm calls", "tool calls", "tool results", "hook events", "dup entries", "skipped")
	row := func(name string, c scanCounts) []string {
		return []string{name, num(c.Sessions), num(c.Runs), num(c.LLMCalls), num(c.ToolCalls), num(c.ToolResults), num(c.HookEvents), num(c.DuplicateEntries), num(c.SkippedLines)}
	}
	for _, a := range r.ByAgent {
		if err := t.Append(row(a.Agent, a)); err != nil {
			return err
		}
	}
	t.Footer(row("total ("+num(r.Agents)+" agents)", r.scanCounts))
	if err := t.Render(); err != nil {
		return err
	}
	fmt.Fprintf(w, "archived or exported copies read: %s (entries seen in several copies counted once: %s); deleted sessions: %s\n",
		num(r.ArchivedCopies), num(r.DuplicateEntries), num(r.DeletedSessions))
	if r.HookEventsUnattributed > 0 {
		fmt.Fprintf(w, "hook events not tied to a session (process-level): %s\n", num(r.HookEventsUnattributed))
	}
	writeSkipped(w, r.SkippedLines, r.SkippedReasons, r.SkippedFiles)
	return nil
}

// writeSkipped writes "skipped lines: N; reason: n; ..." when n > 0, and
// "skipped files: M …" when files > 0 — every command's summary the same.
func writeSkipped(w io.Writer, n int, reasons map[string]int, files int) {
	if n > 0 {
		fmt.Fprintf(w, "skipped lines: %s", num(n))
		for _, k := range slices.Sorted(maps.Keys(reasons)) {
			fmt.Fprintf(w, "; %s: %d", k, reasons[k])
		}
		fmt.Fprintln(w)
	}
	if files > 0 {
		fmt.Fprintf(w, "skipped files: %s (could not be read, or not to the end)\n", num(files))
	}
}

// printSkipped writes the pipeline's skipped lines and their reasons, as
// scan's summary does, to stderr when there were any and not --quiet. The
// count is the pipeline's: the sessions' skipped lines plus those outside
// sessions (hook dumps), the total report's footer shows. Commands whose
// output is not a summary of their own (reconstruct, html, show, export)
// call it once the job is done.
func printSkipped(p *pipeline) {
	if p.flags.quiet {
		return
	}
	writeSkipped(p.stdio.Err, p.Skipped, p.Reasons, p.SkippedFiles)
}

// num formats an integer with thousands separators.
func num(n int) string { return num64(int64(n)) }

func num64(n int64) string {
	s := strconv.FormatInt(n, 10)
	neg := n < 0
	if neg {
		s = s[1:]
	}
	var out []byte
	for i := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			out = append(out, ',')
		}
		out = append(out, s[i])
	}
	if neg {
		return "-" + string(out)
	}
	return string(out)
}
