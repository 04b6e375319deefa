package main

import (
	"errors"
	"fmt"
	"net/http"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/clawtrace/clawtrace/ingest"
	"github.com/clawtrace/clawtrace/reconstruct"
	"github.com/clawtrace/clawtrace/report"
)

func init() { extraCommands = append(extraCommands, newExportCmd) }

func newExportCmd(stdio IO) *cobra.Command {
	var f inputFlags
	var of otlpFlags
	var endpoint string
	var headers []string
	var asJSON, noGzip bool
	var batch, retries int
	var timeout time.Duration
	cmd := &cobra.Command{
		Use:   "export --endpoint URL [paths...]",
		Short: "Push the reconstructed runs to an OTLP/HTTP receiver",
		Long: `export rebuilds every agent run of the inputs, as reconstruct does, and
pushes the spans to an OTLP/HTTP receiver (an OpenTelemetry Collector,
Jaeger, Tempo, Phoenix, …) at <endpoint>/v1/traces: protobuf by default,
--json for OTLP/JSON, gzip unless --no-gzip. Sessions are streamed and sent
in requests of at most --batch spans.

Responses 429, 502, 503 and 504 and connection errors are retried with
exponential backoff, honouring Retry-After, up to --retries times. Any other
error status stops the export. Spans a receiver rejects in a partial
success are counted and make the command fail after the rest was sent.

--endpoint and $OTEL_EXPORTER_OTLP_ENDPOINT are base URLs ("/v1/traces" is
appended unless the URL ends with it); $OTEL_EXPORTER_OTLP_TRACES_ENDPOINT, used when neither is given
as --endpoint, is the full URL and is used as it is. Trace and span ids are
content hashes, so exporting the same inputs twice sends the same ids again.`,
		Example: `  clawtrace export --endpoint http://localhost:4318 ~/.openclaw
  clawtrace export --endpoint https://otel.example.com --header "Authorization=Bearer $TOKEN" state/ hooks.jsonl
  clawtrace export --endpoint http://localhost:6006 --semconv openinference --content --since 2026-09-01`,
		RunE: func(cmd *cobra.Command, args []string) error {
			exact := false
			if endpoint == "" {
				// A per-signal endpoint is used as it is (OTLP exporter spec).
				endpoint = os.Getenv("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT")
				exact = endpoint != ""
			}
			if endpoint == "" {
				endpoint = os.Getenv("OTEL_EXPORTER_OTLP_ENDPOINT")
			}
			if endpoint == "" {
				return usageErr("--endpoint is required (or set OTEL_EXPORTER_OTLP_ENDPOINT)")
			}
			if _, err := report.TracesURL(endpoint); err != nil {
				return usageErr("--endpoint: %v", err)
			}
			if batch < 1 {
				return usageErr("--batch %d: want at least 1", batch)
			}
			if retries < 0 {
				return usageErr("--retries %d: want 0 or more", retries)
			}
			if timeout <= 0 {
				return usageErr("--timeout %v: want a positive duration", timeout)
			}
			opt, err := of.options()
			if err != nil {
				return err
			}
			exp := report.NewExporter(endpoint)
			exp.ExactURL = exact
			exp.Headers = map[string]string{"User-Agent": "clawtrace/" + version}
			for _, h := range headers {
				k, v, ok := strings.Cut(h, "=")
				if !ok || strings.TrimSpace(k) == "" {
					// The value is not repeated: it is likely a credential.
					return usageErr("--header %s: want key=value, e.g. Authorization=Bearer TOKEN", headerName(h))
				}
				exp.Headers[strings.TrimSpace(k)] = v
			}
			exp.JSON, exp.Gzip = asJSON, !noGzip
			exp.BatchSpans, exp.MaxRetries = batch, retries
			exp.Client = &http.Client{Timeout: timeout}

			p, err := openPipeline(args, &f, stdio, ingest.ParseOptions{Content: of.content})
			if err != nil {
				return err
			}
			ctx := cmd.Context()
			exported := 0
			var partial report.PartialSuccessError
			var pending []reconstruct.Trace
			nPending := 0
			// flush sends what is pending. Memory holds at most one batch
			// plus one trace (run) as pdata, and the session's traces.
			flush := func() error {
				if nPending == 0 {
					return nil
				}
				n, err := exp.Export(ctx, report.NewOTLPTraces(pending, opt))
				exported += n
				pending, nPending = nil, 0
				var pe *report.PartialSuccessError
				if errors.As(err, &pe) {
					partial.Rejected += pe.Rejected
					if partial.Message == "" {
						partial.Message = pe.Message
					}
					return nil
				}
				return err
			}
			err = p.each(ctx, func(_ *ingest.Session, traces []reconstruct.Trace) error {
				// Trace by trace, so that a session of many runs is never
				// converted to pdata all at once.
				// A request holds whole traces, up to --batch spans.
				for i := range traces {
					if nPending > 0 && nPending+len(traces[i].Spans) > batch {
						if err := flush(); err != nil {
							return err
						}
					}
					pending = append(pending, traces[i])
					nPending += len(traces[i].Spans)
				}
				return nil
			})
			if err == nil {
				err = flush()
			}
			st := exp.Stats()
			for _, w := range st.Warnings {
				fmt.Fprintf(stdio.Err, "clawtrace: receiver warning: %s\n", w)
			}
			// The summary is printed on success only; on failure the error
			// says what was sent before it, if anything.
			if err != nil {
				if exported > 0 {
					return fmt.Errorf("export: %w (%s spans were exported before the error)", err, num(exported))
				}
				return fmt.Errorf("export: %w", err)
			}
			if partial.Rejected > 0 {
				return fmt.Errorf("export: %w (%s spans accepted in %s requests)", &partial, num(exported), num(st.Requests))
			}
			fmt.Fprintf(stdio.Err, "exported %s spans (%s requests)\n", num(exported), num(st.Requests))
			printSkipped(p)
			return p.finish()
		},
	}
	f.register(cmd)
	of.register(cmd)
	fl := cmd.Flags()
	fl.StringVar(&endpoint, "endpoint", "", "OTLP/HTTP receiver base URL, e.g. http://localhost:4318 (/v1/traces is appended unless it ends with it)")
	fl.StringArrayVar(&headers, "header", nil, "extra request header key=value (repeatable), e.g. Authorization=Bearer TOKEN")
	fl.BoolVar(&asJSON, "json", false, "send OTLP/JSON instead of protobuf")
	fl.BoolVar(&noGzip, "no-gzip", false, "do not gzip request bodies")
	fl.IntVar(&batch, "batch", report.DefaultBatchSpans, "spans per request at most")
	fl.IntVar(&retries, "retries", report.DefaultMaxRetries, "retries of a request that got 429/502/503/504 or no connection")
	fl.DurationVar(&timeout, "timeout", report.DefaultTimeout, "time limit of one HTTP attempt")
	return cmd
}

// headerName is what a usage error shows of a malformed --header: the
// name before a ':' (the curl-style "Name: value"), else nothing.
func headerName(h string) string {
	if k, _, ok := strings.Cut(h, ":"); ok && strings.TrimSpace(k) != "" && !strings.ContainsAny(strings.TrimSpace(k), " \t") {
		return strconv.Quote(strings.TrimSpace(k) + ": …")
	}
	return "(value not shown)"
}
