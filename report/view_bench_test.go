package report

import (
	"io"
	"testing"

	"github.com/clawtrace/clawtrace/ingest"
	"github.com/clawtrace/clawtrace/reconstruct/tracetest"
)

// BenchmarkViewWriter writes the page of the 2026.9.6 recordings (23 runs)
// per iteration; -benchmem shows what a run costs the writer.
func BenchmarkViewWriter(b *testing.B) {
	traces, _, err := tracetest.Reconstruct([]string{corpusRoot + "/openclaw-2026.9.6"}, ingest.Options{})
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		v, err := NewViewWriter(io.Discard, ViewOptions{})
		if err != nil {
			b.Fatal(err)
		}
		for i := range traces {
			if err := v.Write(traces[i : i+1]); err != nil {
				b.Fatal(err)
			}
		}
		if err := v.Close(ViewSummary{}); err != nil {
			b.Fatal(err)
		}
	}
}
