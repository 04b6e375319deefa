package reconstruct_test

import (
	"context"
	"testing"

	"github.com/clawtrace/clawtrace/ingest"
	"github.com/clawtrace/clawtrace/reconstruct"
	"github.com/clawtrace/clawtrace/reconstruct/tracetest"
)

// BenchmarkSession measures the matcher alone over every fixture session
// (with hooks), the sessions parsed once beforehand.
func BenchmarkSession(b *testing.B) {
	var sessions []*ingest.Session
	for _, sc := range tracetest.Scenarios(corpus) {
		c, err := ingest.Open([]string{sc.State, sc.Hooks}, ingest.Options{})
		if err != nil {
			b.Fatal(err)
		}
		c.Each(context.Background(), func(s *ingest.Session) error {
			sessions = append(sessions, s)
			return nil
		})
	}
	spans := 0
	b.ReportAllocs()
	for b.Loop() {
		spans = 0
		for _, s := range sessions {
			for _, t := range reconstruct.Session(s, reconstruct.Options{}) {
				spans += len(t.Spans)
			}
		}
	}
	b.ReportMetric(float64(spans), "spans/op")
}
