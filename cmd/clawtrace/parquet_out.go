package main

import (
	"context"
	"path/filepath"
	"regexp"
	"strings"

	"github.com/clawtrace/clawtrace/ingest"
	"github.com/clawtrace/clawtrace/reconstruct"
	"github.com/clawtrace/clawtrace/report"
)

// writeParquetOutput streams every session of p into the spans table under
// dir (dir/spans.parquet, or dir/date=YYYY-MM-DD/spans-<k>.parquet with
// partitionDay; see docs/parquet.md) and returns the number of spans
// written. Memory stays bounded by one session plus the writer's row groups.
//
// The files appear only when everything succeeded: on any error, including
// a cancelled ctx, the temporary files are removed and no output file is
// created or replaced.
//
// redact masks error messages (status_message), as --redact does in OTLP.
func writeParquetOutput(ctx context.Context, p *pipeline, dir string, partitionDay bool, redact []*regexp.Regexp) (spans int, err error) {
	opt := report.ParquetOptions{PartitionDay: partitionDay, Version: version}
	if p.flags.shard != "" {
		// Shards of one dataset may share the directory: each writes and
		// replaces only its own files.
		k, n, _ := strings.Cut(p.flags.shard, "/")
		opt.FilePrefix = "shard-" + k + "-of-" + n + "-"
	}
	f := p.flags
	if partitionDay && (len(f.agents) > 0 || len(f.sessions) > 0 || f.since != "" || f.until != "") {
		// A filtered run writes part of each date it touches, and a date
		// it writes is replaced as a whole: the rest would be lost.
		if old, _ := filepath.Glob(filepath.Join(dir, "date=*", "*.parquet")); len(old) > 0 {
			return 0, usageErr("--partition day with --agent/--session/--since/--until would replace whole dates of the dataset in %s with part of them: write to an empty directory, or without the filter", dir)
		}
	}
	w, err := report.NewParquetWriter(dir, opt)
	if err != nil {
		return 0, err
	}
	err = p.each(ctx, func(_ *ingest.Session, traces []reconstruct.Trace) error {
		redactSpans(traces, redact)
		if err := w.Write(traces); err != nil {
			return err
		}
		for i := range traces {
			spans += len(traces[i].Spans)
		}
		return nil
	})
	if err != nil {
		w.Abort()
		return 0, err
	}
	if err := w.Close(); err != nil {
		return 0, err
	}
	return spans, nil
}
