package report

// LowConfidence is the confidence at or below which a span counts as low
// confidence (report coverage, hatched bars in the view): 0.5 is the
// lowest the matcher gives, to bounds it could not measure (a tool without
// a result, a call without model_call_ended, an orphan tool's start).
const LowConfidence = 0.5

// IsLowConfidence reports whether a span's confidence is low.
func IsLowConfidence(c float64) bool { return c <= LowConfidence }
