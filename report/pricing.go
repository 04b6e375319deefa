package report

import (
	"bytes"
	_ "embed"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/clawtrace/clawtrace/ingest"
)

// embeddedPricing is the built-in price table. Its format is the one
// --pricing files use; docs/cost.md describes it.
//
//go:embed pricing.json
var embeddedPricing []byte

// Rates are list prices in USD per million tokens for one price band.
type Rates struct {
	Input      float64
	Output     float64
	CacheRead  float64
	CacheWrite float64 // 5-minute (default) cache write
	// CacheWrite1h is the 1-hour cache write price (Anthropic); 0 means
	// "same as CacheWrite".
	CacheWrite1h float64
}

// Tier is a long-context price band: it applies to every token of a call
// whose prompt (input + cache read + cache write) is above
// AbovePromptTokens.
type Tier struct {
	AbovePromptTokens int64
	Rates
}

// ModelPrice is the price of one model.
type ModelPrice struct {
	ID       string
	Provider string
	Aliases  []string
	Rates           // the base band
	Tiers    []Tier // ascending AbovePromptTokens
	Note     string
	Origin   string // "embedded" or the --pricing file name
}

// PromptTokens returns the prompt size of a call: OpenClaw's input counts
// only uncached tokens, so the prompt is input + cache read + cache write.
func PromptTokens(u ingest.Usage) int64 { return u.Input + u.CacheRead + u.CacheWrite }

// RatesFor returns the band that prices a call with the given prompt size:
// the highest tier whose threshold the prompt exceeds, else the base band.
func (m *ModelPrice) RatesFor(prompt int64) Rates {
	r := m.Rates
	for _, t := range m.Tiers {
		if prompt > t.AbovePromptTokens {
			r = t.Rates
		}
	}
	return r
}

// Cost returns the price of a call's usage in USD. CacheWrite1h is the part
// of CacheWrite written with the 1-hour TTL.
func (m *ModelPrice) Cost(u ingest.Usage) float64 {
	r := m.RatesFor(PromptTokens(u))
	cw1h := min(max(u.CacheWrite1h, 0), u.CacheWrite)
	rate1h := r.CacheWrite1h
	if rate1h == 0 {
		rate1h = r.CacheWrite
	}
	return (float64(u.Input)*r.Input + float64(u.Output)*r.Output + float64(u.CacheRead)*r.CacheRead +
		float64(u.CacheWrite-cw1h)*r.CacheWrite + float64(cw1h)*rate1h) / 1e6
}

// PriceTable maps model ids to prices. The zero value is an empty table.
type PriceTable struct {
	// Origins names each table merged into this one with its as-of date,
	// e.g. "embedded (as of 2026-11-25)"; base table first.
	Origins []string
	models  []*ModelPrice
	names   map[string]*ModelPrice // lower-case id or alias → price
	byLen   []string               // names, longest first, for prefix matching
}

// AsOf returns the as-of date of the base table.
func (t *PriceTable) AsOf() string {
	if t == nil || len(t.Origins) == 0 {
		return ""
	}
	return t.Origins[0]
}

// Models returns the prices in table order (override entries first).
func (t *PriceTable) Models() []*ModelPrice { return t.models }

// DefaultPricing returns the embedded price table. Panics if the embedded
// file is invalid (a build error, caught by the tests).
func DefaultPricing() *PriceTable {
	t, err := LoadPricing(bytes.NewReader(embeddedPricing), "embedded")
	if err != nil {
		panic("invariant violation: embedded pricing.json: " + err.Error())
	}
	return t
}

type rawRates struct {
	Input        *float64 `json:"input"`
	Output       *float64 `json:"output"`
	CacheRead    *float64 `json:"cache_read"`
	CacheWrite   *float64 `json:"cache_write"`
	CacheWrite1h *float64 `json:"cache_write_1h"`
}

func (r rawRates) rates(where string) (Rates, error) {
	var out Rates
	for _, f := range []struct {
		name string
		p    *float64
		dst  *float64
		req  bool
	}{
		{"input", r.Input, &out.Input, true},
		{"output", r.Output, &out.Output, true},
		{"cache_read", r.CacheRead, &out.CacheRead, true},
		{"cache_write", r.CacheWrite, &out.CacheWrite, true},
		{"cache_write_1h", r.CacheWrite1h, &out.CacheWrite1h, false},
	} {
		if f.p == nil {
			if f.req {
				return out, fmt.Errorf("%s: missing %s", where, f.name)
			}
			continue
		}
		if *f.p < 0 {
			return out, fmt.Errorf("%s: negative %s", where, f.name)
		}
		*f.dst = *f.p
	}
	return out, nil
}

type rawTier struct {
	AbovePromptTokens *int64 `json:"above_prompt_tokens"`
	rawRates
}

type rawModel struct {
	ID       string    `json:"id"`
	Provider string    `json:"provider"`
	Aliases  []string  `json:"aliases"`
	Tiers    []rawTier `json:"tiers"`
	Note     string    `json:"note"`
	rawRates
}

type rawPricing struct {
	SchemaVersion int        `json:"schema_version"`
	AsOf          string     `json:"as_of"`
	Currency      string     `json:"currency"`
	Unit          string     `json:"unit"`
	Sources       []string   `json:"sources"`
	Notes         string     `json:"notes"`
	Models        []rawModel `json:"models"`
}

// LoadPricing reads a price table in the pricing.json format (schema_version
// 1, USD per million tokens; see docs/cost.md). name labels where it came
// from in the report. Unknown fields, missing prices, negative prices,
// unordered tiers and a name given to two models are errors.
func LoadPricing(r io.Reader, name string) (*PriceTable, error) {
	dec := json.NewDecoder(r)
	dec.DisallowUnknownFields()
	var raw rawPricing
	if err := dec.Decode(&raw); err != nil {
		return nil, fmt.Errorf("pricing %s: %w", name, err)
	}
	if raw.SchemaVersion != 1 {
		return nil, fmt.Errorf("pricing %s: schema_version %d: want 1", name, raw.SchemaVersion)
	}
	if raw.Currency != "" && raw.Currency != "USD" {
		return nil, fmt.Errorf("pricing %s: currency %q: only USD is supported", name, raw.Currency)
	}
	if raw.Unit != "" && raw.Unit != "per_million_tokens" {
		return nil, fmt.Errorf("pricing %s: unit %q: want per_million_tokens", name, raw.Unit)
	}
	origin := name
	if raw.AsOf != "" {
		origin += " (as of " + raw.AsOf + ")"
	}
	t := &PriceTable{Origins: []string{origin}}
	var errs []error
	for i, rm := range raw.Models {
		where := fmt.Sprintf("pricing %s: models[%d]", name, i)
		if rm.ID != "" {
			where += " " + rm.ID
		}
		if strings.TrimSpace(rm.ID) == "" {
			errs = append(errs, fmt.Errorf("%s: missing id", where))
			continue
		}
		base, err := rm.rawRates.rates(where)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		mp := &ModelPrice{ID: rm.ID, Provider: rm.Provider, Aliases: rm.Aliases, Rates: base, Note: rm.Note, Origin: name}
		var last int64
		for j, rt := range rm.Tiers {
			tw := fmt.Sprintf("%s: tiers[%d]", where, j)
			if rt.AbovePromptTokens == nil || *rt.AbovePromptTokens <= last {
				errs = append(errs, fmt.Errorf("%s: above_prompt_tokens must be set and ascending", tw))
				continue
			}
			tr, err := rt.rawRates.rates(tw)
			if err != nil {
				errs = append(errs, err)
				continue
			}
			last = *rt.AbovePromptTokens
			mp.Tiers = append(mp.Tiers, Tier{AbovePromptTokens: last, Rates: tr})
		}
		t.models = append(t.models, mp)
	}
	if err := t.index(); err != nil {
		errs = append(errs, fmt.Errorf("pricing %s: %w", name, err))
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return t, nil
}

func (m *ModelPrice) names() []string {
	out := []string{normModel(m.ID)}
	for _, a := range m.Aliases {
		if n := normModel(a); n != "" {
			out = append(out, n)
		}
	}
	return out
}

// index builds the name maps; a name used by two models is an error.
func (t *PriceTable) index() error {
	t.names = map[string]*ModelPrice{}
	var errs []error
	for _, m := range t.models {
		for _, n := range m.names() {
			if o, dup := t.names[n]; dup && o != m {
				errs = append(errs, fmt.Errorf("name %q given to %s and %s", n, o.ID, m.ID))
				continue
			}
			t.names[n] = m
		}
	}
	t.byLen = t.byLen[:0]
	for n := range t.names {
		t.byLen = append(t.byLen, n)
	}
	slices.SortFunc(t.byLen, func(a, b string) int {
		if len(a) != len(b) {
			return len(b) - len(a)
		}
		return strings.Compare(a, b)
	})
	return errors.Join(errs...)
}

// Override returns a table holding o's models plus those of t that o does
// not name: a model of t is dropped when o uses any of its id or aliases.
// Neither input is changed.
func (t *PriceTable) Override(o *PriceTable) *PriceTable {
	out := &PriceTable{Origins: append(slices.Clone(t.Origins), o.Origins...)}
	out.models = append(out.models, o.models...)
	for _, m := range t.models {
		shadowed := false
		for _, n := range m.names() {
			if _, ok := o.names[n]; ok {
				shadowed = true
				break
			}
		}
		if !shadowed {
			out.models = append(out.models, m)
		}
	}
	if err := out.index(); err != nil {
		panic("invariant violation: override left a duplicate name: " + err.Error())
	}
	return out
}

func normModel(s string) string { return strings.ToLower(strings.TrimSpace(s)) }

// modelCandidates returns the forms of a model id to look up, most specific
// first: the id itself; without a provider path ("anthropic/claude-…",
// "openrouter/openai/gpt-5" → the last segment); without a Bedrock-style
// "<region>.anthropic." prefix; without a "[1m]"-style suffix.
func modelCandidates(model string) []string {
	c := normModel(model)
	if c == "" {
		return nil
	}
	out := []string{c}
	add := func(s string) {
		if s != "" && !slices.Contains(out, s) {
			out = append(out, s)
		}
	}
	if i := strings.LastIndexByte(c, '/'); i >= 0 {
		c = c[i+1:]
		add(c)
	}
	if i := strings.Index(c, "anthropic."); i >= 0 {
		c = c[i+len("anthropic."):]
		add(c)
	}
	if i := strings.IndexByte(c, '['); i > 0 && strings.HasSuffix(c, "]") {
		add(c[:i])
	}
	return out
}

// Lookup finds the price of a model id:
//  1. an exact id or alias (case-insensitive), also after stripping a
//     provider prefix (see modelCandidates);
//  2. else the longest id or alias that the model id extends with a
//     snapshot suffix: a separator (- @ : _) then a date-like number of 4+
//     digits ("claude-sonnet-4-5-20250929", "gpt-4o-2024-08-06",
//     "claude-sonnet-4-5@20250929") or one of latest, preview, exp,
//     experimental, thinking, beta, v<digits>.
//
// N.B. a suffix that continues the version or names a variant is NOT a
// match: "claude-sonnet-4-6" is not "claude-sonnet-4", "gpt-5-pro" is not
// "gpt-5", "o3-mini" is not "o3" (they have other prices). Such models are
// unpriced until a --pricing file names them.
func (t *PriceTable) Lookup(model string) (*ModelPrice, bool) {
	if t == nil {
		return nil, false
	}
	cands := modelCandidates(model)
	for _, c := range cands {
		if m, ok := t.names[c]; ok {
			return m, true
		}
	}
	for _, c := range cands {
		for _, n := range t.byLen {
			if len(n) < len(c) && strings.HasPrefix(c, n) && snapshotSuffix(c[len(n):]) {
				return t.names[n], true
			}
		}
	}
	return nil, false
}

var snapshotWords = []string{"latest", "preview", "exp", "experimental", "thinking", "beta"}

// snapshotSuffix reports whether rest (what follows a known model name)
// marks a snapshot or release channel of that same model.
func snapshotSuffix(rest string) bool {
	if rest == "" || !strings.ContainsRune("-@:_", rune(rest[0])) {
		return false
	}
	tok := rest[1:]
	if i := strings.IndexAny(tok, "-@:_."); i >= 0 {
		tok = tok[:i]
	}
	if tok == "" {
		return false
	}
	if allDigits(tok) {
		return len(tok) >= 4
	}
	if len(tok) > 1 && tok[0] == 'v' && allDigits(tok[1:]) {
		return true
	}
	return slices.Contains(snapshotWords, tok)
}

func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return s != ""
}
