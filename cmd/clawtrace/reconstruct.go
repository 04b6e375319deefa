package main

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"regexp"
	"slices"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/clawtrace/clawtrace/ingest"
	"github.com/clawtrace/clawtrace/reconstruct"
	"github.com/clawtrace/clawtrace/report"
)

func init() { extraCommands = append(extraCommands, newReconstructCmd) }

// Output formats of reconstruct.
const (
	formatOTLPJSON = "otlp-json"
	formatParquet  = "parquet"
)

// contentFlags are --content and --redact (reconstruct, export, html).
type contentFlags struct {
	content bool
	redact  []string
}

// register adds --content, with this help text, and --redact.
func (c *contentFlags) register(cmd *cobra.Command, contentUsage string) {
	fl := cmd.Flags()
	fl.BoolVar(&c.content, "content", false, contentUsage)
	registerRedact(fl, &c.redact)
}

// registerRedact adds --redact to a command's flags.
func registerRedact(fl *pflag.FlagSet, redact *[]string) {
	fl.StringArrayVar(redact, "redact", nil, "replace every match of this Go regexp by [REDACTED] in error messages and, with --content, in message and tool text (repeatable)")
}

// regexps compiles --redact.
func (c *contentFlags) regexps() ([]*regexp.Regexp, error) { return compileRedact(c.redact) }

// compileRedact compiles the --redact expressions (a bad one is a usage
// error).
func compileRedact(exprs []string) ([]*regexp.Regexp, error) {
	var res []*regexp.Regexp
	for _, expr := range exprs {
		re, err := regexp.Compile(expr)
		if err != nil {
			return nil, usageErr("--redact: %v", err)
		}
		res = append(res, re)
	}
	return res, nil
}

// otlpFlags are the flags that shape OTLP output (reconstruct and export).
type otlpFlags struct {
	semconv []string
	contentFlags
}

func (o *otlpFlags) register(cmd *cobra.Command) {
	cmd.Flags().StringSliceVar(&o.semconv, "semconv", nil, "extra semantic conventions besides OpenTelemetry GenAI: openinference")
	o.contentFlags.register(cmd, "include message and tool text (off by default: it may hold secrets)")
}

// options validates the flags and returns the OTLP options.
func (o *otlpFlags) options() (report.OTLPOptions, error) {
	opt := report.OTLPOptions{Content: o.content, Version: version}
	for _, s := range o.semconv {
		if s != report.SemConvOpenInference {
			return opt, usageErr("--semconv %q: want %s (OpenTelemetry GenAI attributes are always written)", s, report.SemConvOpenInference)
		}
		if !slices.Contains(opt.SemConv, s) {
			opt.SemConv = append(opt.SemConv, s)
		}
	}
	res, err := o.regexps()
	if err != nil {
		return opt, err
	}
	opt.Redact = res
	return opt, nil
}

// encoded is one session's OTLP JSON line, made in a worker.
type encoded struct {
	line []byte
	err  error
}

func countSpans(traces []reconstruct.Trace) int {
	n := 0
	for i := range traces {
		n += len(traces[i].Spans)
	}
	return n
}

func newReconstructCmd(stdio IO) *cobra.Command {
	var f inputFlags
	var of otlpFlags
	var format, out, partition string
	cmd := &cobra.Command{
		Use:   "reconstruct [paths...]",
		Short: "Write every reconstructed run as OTLP JSON or Parquet",
		Long: `reconstruct rebuilds every agent run of the inputs as a trace and writes it.

-f otlp-json (the default) writes one OTLP/JSON ExportTraceServiceRequest per
session (a session of over 10,000 spans: several, each of whole runs), one
per line: the layout the OpenTelemetry Collector's otlpjsonfile receiver
reads. Spans follow the OpenTelemetry GenAI semantic conventions
(invoke_agent → chat / execute_tool) and carry clawtrace.* attributes with
the confidence and evidence of every inferred field; --semconv openinference
adds OpenInference attributes (Phoenix, Arize). Message and tool text is left
out unless --content is given; --redact masks parts of it. docs/otlp.md
describes every span, link and attribute.

-f parquet -o DIR writes the spans table (one row per span, zstd) to
DIR/spans.parquet, or with --partition day to Hive-style
DIR/date=YYYY-MM-DD/ directories that DuckDB, Spark and Trino read as one
dataset; docs/parquet.md has the schema.

The output is written to a temporary file next to -o and renamed when
complete, so a reader never sees half a file. Without -o (or with -o -) it
goes to stdout. The same inputs always give the same bytes.`,
		Example: `  clawtrace reconstruct ~/.openclaw -o traces.jsonl
  clawtrace reconstruct state/ hooks.jsonl --semconv openinference > traces.jsonl
  clawtrace reconstruct --content --redact 'sk-[A-Za-z0-9]+' --session s04 -o s04.jsonl
  clawtrace reconstruct -f parquet --partition day -o spans/ ~/.openclaw`,
		RunE: func(cmd *cobra.Command, args []string) error {
			switch format {
			case formatOTLPJSON:
				if partition != "" {
					return usageErr("--partition needs -f parquet")
				}
			case formatParquet:
				if out == "" || out == "-" {
					return usageErr("-f parquet needs -o DIR")
				}
				if partition != "" && partition != "day" {
					return usageErr("--partition %q: only day is supported", partition)
				}
				if of.content {
					return usageErr("--content is not written to Parquet")
				}
				redact, err := of.regexps()
				if err != nil {
					return err
				}
				if err := outputIsInput("--output", out, inputPaths(args, &f), nil); err != nil {
					return err
				}
				p, err := openPipeline(args, &f, stdio, ingest.ParseOptions{})
				if err != nil {
					return err
				}
				spans, err := writeParquetOutput(cmd.Context(), p, out, partition == "day", redact)
				if err != nil {
					return err
				}
				if !f.quiet {
					fmt.Fprintf(stdio.Err, "wrote %s spans (%s sessions) to %s\n", num(spans), num(p.Sessions), out)
				}
				printSkipped(p)
				return p.finish()
			default:
				return usageErr("-f %q: want %s or %s", format, formatOTLPJSON, formatParquet)
			}
			opt, err := of.options()
			if err != nil {
				return err
			}
			inputs := inputPaths(args, &f)
			if err := outputIsInput("--output", out, inputs, nil); err != nil {
				return err
			}
			p, err := openPipeline(args, &f, stdio, ingest.ParseOptions{Content: of.content})
			if err != nil {
				return err
			}
			if err := outputIsInput("--output", out, inputs, p.corpus.Inv); err != nil {
				return err
			}
			spans, runs := 0, 0
			// Each session's OTLP line is encoded in the workers; lines are
			// written in session order. A session of more than
			// report.MaxSpansPerLine spans is encoded here instead, a line
			// at a time straight to the output, so that its whole encoding
			// is never in memory.
			encode := func(_ *ingest.Session, traces []reconstruct.Trace) encoded {
				if countSpans(traces) > report.MaxSpansPerLine {
					return encoded{}
				}
				var b bytes.Buffer
				err := report.WriteOTLPJSON(&b, traces, opt)
				return encoded{b.Bytes(), err}
			}
			write := func(w io.Writer) error {
				return eachPrepared(cmd.Context(), p, encode, func(s *ingest.Session, traces []reconstruct.Trace, e encoded, stale bool) error {
					n := countSpans(traces)
					spans += n
					runs += len(traces)
					if stale || n > report.MaxSpansPerLine {
						return report.WriteOTLPJSON(w, traces, opt)
					}
					if e.err != nil {
						return e.err
					}
					_, err := w.Write(e.line)
					return err
				})
			}
			if out == "" || out == "-" {
				bw := bufio.NewWriterSize(stdio.Out, 256<<10)
				err = write(bw)
				if ferr := bw.Flush(); err == nil {
					err = ferr
				}
			} else {
				err = atomicWrite(out, write)
			}
			if err != nil {
				return err
			}
			if out != "" && out != "-" && !f.quiet {
				fmt.Fprintf(stdio.Err, "wrote %s spans (%s runs, %s sessions) to %s\n", num(spans), num(runs), num(p.Sessions), out)
			}
			printSkipped(p)
			return p.finish()
		},
	}
	f.register(cmd)
	of.register(cmd)
	cmd.Flags().StringVarP(&format, "format", "f", formatOTLPJSON, "output format: otlp-json or parquet")
	cmd.Flags().StringVarP(&out, "output", "o", "", "output file (- or none: stdout); a directory for -f parquet")
	cmd.Flags().StringVar(&partition, "partition", "", "with -f parquet: day writes date=YYYY-MM-DD/ directories")
	return cmd
}
