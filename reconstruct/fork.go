package reconstruct

import (
	"crypto/sha256"
	"fmt"

	"github.com/clawtrace/clawtrace/ingest"
)

// ForkDeduper keeps usage from being counted twice when a session holds a
// copy of another session's calls (a /fork copies the history: the same
// entry id, message time and token counts). Apply it to each session's
// traces in delivery order: the first session to hold a call keeps its
// usage; later copies keep their spans but lose the usage, with an evidence
// note naming the session that counts it. Calls without an entry id are
// never deduplicated.
//
// Memory: one 16-byte key per LLM call with usage.
type ForkDeduper struct {
	seen map[[16]byte]string
}

// Apply strips the usage of calls already seen in an earlier session and
// returns how many spans it changed.
func (d *ForkDeduper) Apply(traces []Trace) int {
	if d.seen == nil {
		d.seen = map[[16]byte]string{}
	}
	n := 0
	for ti := range traces {
		owner := traces[ti].AgentID + "/" + traces[ti].SessionID
		for si := range traces[ti].Spans {
			sp := &traces[ti].Spans[si]
			if sp.forkKey == ([16]byte{}) || !sp.Usage.Known {
				continue
			}
			first, ok := d.seen[sp.forkKey]
			if !ok {
				d.seen[sp.forkKey] = owner
				continue
			}
			if first == owner {
				continue
			}
			sp.Usage = ingest.Usage{}
			sp.Evidence = append(sp.Evidence, Evidence{Field: "usage", Method: MethodTranscriptUsage, Confidence: 1, Note: NoteForkCopy + " " + first})
			n++
		}
	}
	return n
}

func forkKey(entryID string, m *ingest.Message) [16]byte {
	u := m.Usage
	sum := sha256.Sum256(fmt.Appendf(nil, "%s\x00%d\x00%d\x00%d\x00%d\x00%d", entryID, m.Time.UnixMilli(), u.Input, u.Output, u.CacheRead, u.CacheWrite))
	var k [16]byte
	copy(k[:], sum[:16])
	return k
}
