package report

import (
	"bytes"
	"compress/gzip"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"mime"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"go.opentelemetry.io/collector/pdata/ptrace"
)

// Exporter defaults (NewExporter).
const (
	DefaultMaxRetries = 5
	DefaultBatchSpans = 1000
	// DefaultTimeout bounds one HTTP attempt when Client is nil.
	DefaultTimeout = 30 * time.Second
	// maxRetryAfter caps how long a Retry-After header can make us wait.
	maxRetryAfter = 5 * time.Minute
	// maxSnippet bounds the response body quoted in an error.
	maxSnippet = 300
)

// Exporter pushes traces to an OTLP/HTTP receiver (POST <endpoint>/v1/traces)
// without the collector's exporter modules: the body is ptrace's protobuf
// (application/x-protobuf, the default) or JSON encoding of an
// ExportTraceServiceRequest, gzip-compressed when Gzip is set.
//
// Retries follow the OTLP/HTTP spec: 429, 502, 503 and 504 responses and
// connection errors are retried up to MaxRetries times, waiting Retry-After
// (seconds or an HTTP date, capped at 5 minutes) when the response has one,
// else Backoff(attempt). Any other non-2xx status fails at once with an
// *HTTPError quoting the start of the body. A 2xx response whose
// partialSuccess rejects spans counts them as not accepted (see Export).
//
// The zero value is usable but has Gzip off, no retries and no batching; use
// NewExporter for the defaults. An Exporter is not safe for concurrent use.
type Exporter struct {
	// Endpoint is the receiver's base URL (http or https), e.g.
	// http://localhost:4318. "/v1/traces" is appended unless the path
	// already ends with it, or ExactURL is set.
	Endpoint string
	// ExactURL sends to Endpoint as it is (a per-signal endpoint such as
	// OTEL_EXPORTER_OTLP_TRACES_ENDPOINT, which the spec says is used
	// without modification).
	ExactURL bool
	// Headers are added to every request (e.g. authorization).
	Headers map[string]string
	// JSON sends OTLP/JSON instead of protobuf.
	JSON bool
	// Gzip compresses request bodies (Content-Encoding: gzip). NewExporter
	// turns it on.
	Gzip bool
	// Client sends the requests; nil means a client with DefaultTimeout.
	Client *http.Client
	// MaxRetries is how many times one request is retried (0: never).
	MaxRetries int
	// Backoff is the wait before retry attempt+1 (attempt counts from 0)
	// when the response had no Retry-After; nil means 500 ms doubling per
	// attempt, capped at 30 s.
	Backoff func(attempt int) time.Duration
	// BatchSpans splits an Export into requests of at most this many spans
	// (0: one request per Export).
	BatchSpans int

	stats ExportStats
	// sleep waits d or until ctx is done; tests replace it.
	sleep func(ctx context.Context, d time.Duration) error
}

// ExportStats count what an Exporter did over its lifetime.
type ExportStats struct {
	Requests int   // requests answered with 2xx (one per batch)
	Attempts int   // HTTP attempts, retries included
	Spans    int   // spans sent in requests answered with 2xx
	Rejected int64 // of those, spans the receiver rejected (partial success)
	// Warnings are partialSuccess error messages that rejected nothing.
	Warnings []string
}

// NewExporter returns an Exporter for endpoint with gzip on,
// DefaultMaxRetries and DefaultBatchSpans.
func NewExporter(endpoint string) *Exporter {
	return &Exporter{Endpoint: endpoint, Gzip: true, MaxRetries: DefaultMaxRetries, BatchSpans: DefaultBatchSpans}
}

// Stats returns the counts so far.
func (e *Exporter) Stats() ExportStats { return e.stats }

// HTTPError is a response the exporter gave up on.
type HTTPError struct {
	URL        string
	StatusCode int
	Status     string // e.g. "400 Bad Request"
	// Snippet is the start of the response body (the message of a
	// google.rpc.Status for protobuf bodies), at most 300 bytes.
	Snippet string
}

func (e *HTTPError) Error() string {
	msg := "posting to " + e.URL + ": " + e.Status
	if e.Snippet != "" {
		msg += ": " + e.Snippet
	}
	return msg
}

// PartialSuccessError reports spans a receiver accepted the request for but
// rejected (OTLP partialSuccess.rejectedSpans > 0).
type PartialSuccessError struct {
	Rejected int64
	Message  string // the receiver's errorMessage of the first partial success
}

func (e *PartialSuccessError) Error() string {
	msg := fmt.Sprintf("receiver rejected %d spans", e.Rejected)
	if e.Message != "" {
		msg += ": " + e.Message
	}
	return msg
}

// TracesURL returns the URL requests go to: endpoint with "/v1/traces"
// appended unless its path already ends with it.
func TracesURL(endpoint string) (string, error) {
	u, err := url.Parse(endpoint)
	if err != nil {
		// Not quoted: the endpoint may hold a password.
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		return "", fmt.Errorf("endpoint: %w", err)
	}
	if u.Scheme != "http" && u.Scheme != "https" || u.Host == "" {
		return "", fmt.Errorf("endpoint %q: want an http:// or https:// URL such as http://localhost:4318", displayURL(u))
	}
	if !strings.HasSuffix(u.Path, "/v1/traces") {
		u.Path = strings.TrimSuffix(u.Path, "/") + "/v1/traces"
		u.RawPath = ""
	}
	return u.String(), nil
}

// Export sends td, split into requests of at most BatchSpans spans, one
// request after the other. It returns the number of spans the receiver
// accepted: the spans of every 2xx request minus those its partialSuccess
// rejected.
//
// It stops at the first request that fails (after retries) and returns
// the spans accepted so far with the error. When every request got a 2xx
// but some spans were rejected, the error is a *PartialSuccessError
// summing them. A partialSuccess that rejects nothing but carries a message
// is a warning: it goes to Stats().Warnings, not to the error.
//
// BUG: a 2xx response body that is neither JSON nor protobuf, or does not
// decode, is taken as "everything accepted".
func (e *Exporter) Export(ctx context.Context, td ptrace.Traces) (accepted int, err error) {
	u, err := TracesURL(e.Endpoint)
	if e.ExactURL {
		u = e.Endpoint
	}
	if err != nil {
		return 0, err
	}
	var partial *PartialSuccessError
	for _, batch := range SplitTraces(td, e.BatchSpans) {
		n := batch.SpanCount()
		if n == 0 {
			continue
		}
		rejected, msg, err := e.send(ctx, u, batch)
		if err != nil {
			return accepted, err
		}
		rejected = min(max(rejected, 0), int64(n))
		accepted += n - int(rejected)
		e.stats.Requests++
		e.stats.Spans += n
		e.stats.Rejected += rejected
		switch {
		case rejected > 0 && partial == nil:
			partial = &PartialSuccessError{Rejected: rejected, Message: msg}
		case rejected > 0:
			partial.Rejected += rejected
			if partial.Message == "" {
				partial.Message = msg
			}
		case msg != "":
			e.stats.Warnings = append(e.stats.Warnings, msg)
		}
	}
	if partial != nil {
		return accepted, partial
	}
	return accepted, nil
}

// SplitTraces splits td into Traces of at most maxSpans spans each, in
// order, keeping every span under a copy of its resource and scope. With
// maxSpans <= 0, or when td has no more spans than that, it returns td
// itself as the only element.
func SplitTraces(td ptrace.Traces, maxSpans int) []ptrace.Traces {
	if maxSpans <= 0 || td.SpanCount() <= maxSpans {
		return []ptrace.Traces{td}
	}
	var out []ptrace.Traces
	var cur ptrace.Traces
	n := maxSpans // spans in cur; full at start so the first span opens a batch
	for i := 0; i < td.ResourceSpans().Len(); i++ {
		rs := td.ResourceSpans().At(i)
		for j := 0; j < rs.ScopeSpans().Len(); j++ {
			ss := rs.ScopeSpans().At(j)
			var dst ptrace.SpanSlice
			open := false // dst belongs to cur
			for k := 0; k < ss.Spans().Len(); k++ {
				if n == maxSpans {
					cur = ptrace.NewTraces()
					out = append(out, cur)
					n, open = 0, false
				}
				if !open {
					nrs := cur.ResourceSpans().AppendEmpty()
					rs.Resource().CopyTo(nrs.Resource())
					nrs.SetSchemaUrl(rs.SchemaUrl())
					nss := nrs.ScopeSpans().AppendEmpty()
					ss.Scope().CopyTo(nss.Scope())
					nss.SetSchemaUrl(ss.SchemaUrl())
					dst, open = nss.Spans(), true
				}
				ss.Spans().At(k).CopyTo(dst.AppendEmpty())
				n++
			}
		}
	}
	return out
}

// send posts one request, retrying as the type comment says. It returns the
// partialSuccess of the 2xx response.
func (e *Exporter) send(ctx context.Context, u string, td ptrace.Traces) (rejected int64, msg string, err error) {
	var body []byte
	ctype := "application/x-protobuf"
	if e.JSON {
		ctype = "application/json"
		body, err = (&ptrace.JSONMarshaler{}).MarshalTraces(td)
	} else {
		body, err = (&ptrace.ProtoMarshaler{}).MarshalTraces(td)
	}
	if err != nil {
		return 0, "", fmt.Errorf("encoding otlp request: %w", err)
	}
	if e.Gzip {
		var buf bytes.Buffer
		zw := gzip.NewWriter(&buf)
		if _, err := zw.Write(body); err != nil {
			return 0, "", err
		}
		if err := zw.Close(); err != nil {
			return 0, "", err
		}
		body = buf.Bytes()
	}
	client := e.Client
	if client == nil {
		client = &http.Client{Timeout: DefaultTimeout}
	}
	if client.CheckRedirect == nil {
		c := *client
		c.CheckRedirect = sameOriginRedirect
		client = &c
	}
	sleep := e.sleep
	if sleep == nil {
		sleep = sleepCtx
	}
	shown := u
	if pu, err := url.Parse(u); err == nil {
		shown = displayURL(pu)
	}
	for attempt := 0; ; attempt++ {
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, u, bytes.NewReader(body))
		if err != nil {
			return 0, "", err
		}
		for _, k := range slices.Sorted(maps.Keys(e.Headers)) {
			req.Header.Set(k, e.Headers[k])
		}
		req.Header.Set("Content-Type", ctype)
		req.Header.Set("Accept", ctype)
		if e.Gzip {
			req.Header.Set("Content-Encoding", "gzip")
		}
		e.stats.Attempts++
		resp, err := client.Do(req)
		var retryErr error
		wait, haveWait := time.Duration(0), false
		if err != nil {
			if ctx.Err() != nil {
				return 0, "", ctx.Err()
			}
			var ue *url.Error
			if errors.As(err, &ue) {
				err = ue.Err
			}
			retryErr = fmt.Errorf("posting to %s: %w", shown, err)
			if !retryableConnErr(err) {
				return 0, "", retryErr
			}
		} else {
			rb, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
			resp.Body.Close()
			rtype := mediaType(resp.Header.Get("Content-Type"))
			switch code := resp.StatusCode; {
			case code >= 200 && code < 300:
				rejected, msg := parsePartialSuccess(rb, rtype, e.JSON)
				return rejected, e.scrub(msg), nil
			case code == http.StatusTooManyRequests || code == http.StatusBadGateway ||
				code == http.StatusServiceUnavailable || code == http.StatusGatewayTimeout:
				retryErr = &HTTPError{URL: shown, StatusCode: code, Status: resp.Status, Snippet: e.scrub(snippet(rb, rtype))}
				wait, haveWait = retryAfter(resp.Header.Get("Retry-After"), time.Now())
			case code >= 300 && code < 400:
				return 0, "", &HTTPError{URL: shown, StatusCode: code, Status: resp.Status,
					Snippet: "a redirect to another host is not followed (it would get the request headers)"}
			default:
				return 0, "", &HTTPError{URL: shown, StatusCode: code, Status: resp.Status, Snippet: e.scrub(snippet(rb, rtype))}
			}
		}
		if attempt >= e.MaxRetries {
			if attempt == 0 {
				return 0, "", retryErr
			}
			return 0, "", fmt.Errorf("%w (gave up after %d attempts)", retryErr, attempt+1)
		}
		if !haveWait {
			wait = e.backoff(attempt)
		}
		if err := sleep(ctx, wait); err != nil {
			return 0, "", err
		}
	}
}

// displayURL is u as errors show it: without its password and query
// (either may hold a credential).
func displayURL(u *url.URL) string {
	c := *u
	if c.RawQuery != "" {
		c.RawQuery = "…"
	}
	return c.Redacted()
}

// sameOriginRedirect follows a redirect only to the scheme, host and port
// of the first request: a redirect elsewhere would carry the Headers
// (credentials) to another server, since net/http forwards custom headers
// everywhere and Authorization to every port of the same host. The 3xx
// response is then the error.
func sameOriginRedirect(req *http.Request, via []*http.Request) error {
	if len(via) >= 10 {
		return errors.New("stopped after 10 redirects")
	}
	if first := via[0].URL; req.URL.Scheme != first.Scheme || req.URL.Host != first.Host {
		return http.ErrUseLastResponse
	}
	return nil
}

// scrub replaces the values of the request headers (and their words of
// four bytes or more: the token of "Bearer TOKEN") in text a receiver sent
// back, e.g. an error body that echoes the request, by Redacted: errors
// and warnings end up in CI logs.
func (e *Exporter) scrub(s string) string {
	var secrets []string
	for k, v := range e.Headers {
		if strings.EqualFold(k, "User-Agent") {
			continue
		}
		secrets = append(secrets, v)
		secrets = append(secrets, strings.Fields(v)...)
	}
	// Longest first, so a value is replaced whole before its words.
	slices.SortFunc(secrets, func(a, b string) int { return len(b) - len(a) })
	for _, v := range secrets {
		if len(strings.TrimSpace(v)) >= 4 {
			s = strings.ReplaceAll(s, v, Redacted)
		}
	}
	return s
}

func (e *Exporter) backoff(attempt int) time.Duration {
	if e.Backoff != nil {
		return e.Backoff(attempt)
	}
	d := 500 * time.Millisecond << min(attempt, 6)
	return min(d, 30*time.Second)
}

func sleepCtx(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// retryableConnErr reports whether a transport error may go away on retry:
// everything except TLS certificate problems.
func retryableConnErr(err error) bool {
	var cv *tls.CertificateVerificationError
	var ua x509.UnknownAuthorityError
	var hn x509.HostnameError
	var ci x509.CertificateInvalidError
	return !errors.As(err, &cv) && !errors.As(err, &ua) && !errors.As(err, &hn) && !errors.As(err, &ci)
}

// retryAfter parses a Retry-After value: delay seconds or an HTTP date
// (relative to now). The result is capped at maxRetryAfter.
func retryAfter(v string, now time.Time) (time.Duration, bool) {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0, false
	}
	var d time.Duration
	if secs, err := strconv.ParseInt(v, 10, 64); err == nil {
		if secs < 0 {
			return 0, false
		}
		d = time.Duration(min(secs, int64(maxRetryAfter/time.Second))) * time.Second
	} else if t, err := http.ParseTime(v); err == nil {
		d = max(t.Sub(now), 0)
	} else {
		return 0, false
	}
	return min(d, maxRetryAfter), true
}

func mediaType(ct string) string {
	mt, _, err := mime.ParseMediaType(ct)
	if err != nil {
		return strings.ToLower(strings.TrimSpace(ct))
	}
	return mt
}

// parsePartialSuccess decodes an ExportTraceServiceResponse, JSON or
// protobuf by its content type (by what was sent when the type says
// neither), and returns its partialSuccess. Undecodable bodies give 0, "".
func parsePartialSuccess(b []byte, mediaType string, sentJSON bool) (int64, string) {
	if len(bytes.TrimSpace(b)) == 0 {
		return 0, ""
	}
	isJSON := sentJSON
	switch {
	case strings.Contains(mediaType, "json"):
		isJSON = true
	case strings.Contains(mediaType, "protobuf"):
		isJSON = false
	}
	if isJSON {
		return jsonPartialSuccess(b)
	}
	return protoPartialSuccess(b)
}

func jsonPartialSuccess(b []byte) (int64, string) {
	type partial struct {
		RejectedSpans  json.RawMessage `json:"rejectedSpans"`
		RejectedSpans2 json.RawMessage `json:"rejected_spans"`
		ErrorMessage   string          `json:"errorMessage"`
		ErrorMessage2  string          `json:"error_message"`
	}
	var r struct {
		PartialSuccess  *partial `json:"partialSuccess"`
		PartialSuccess2 *partial `json:"partial_success"`
	}
	if json.Unmarshal(b, &r) != nil {
		return 0, ""
	}
	p := r.PartialSuccess
	if p == nil {
		p = r.PartialSuccess2
	}
	if p == nil {
		return 0, ""
	}
	raw := p.RejectedSpans
	if raw == nil {
		raw = p.RejectedSpans2
	}
	// int64 fields are strings in OTLP/JSON; accept numbers as well.
	n, _ := strconv.ParseInt(strings.Trim(string(raw), `"`), 10, 64)
	msg := p.ErrorMessage
	if msg == "" {
		msg = p.ErrorMessage2
	}
	return n, msg
}

// protoPartialSuccess reads ExportTraceServiceResponse by hand:
//
//	message ExportTraceServiceResponse { ExportTracePartialSuccess partial_success = 1; }
//	message ExportTracePartialSuccess { int64 rejected_spans = 1; string error_message = 2; }
//
// (decoding two fields does not justify linking a protobuf runtime).
func protoPartialSuccess(b []byte) (int64, string) {
	var rejected int64
	var msg string
	_ = walkProto(b, func(field int, wire int, v uint64, data []byte) {
		if field == 1 && wire == 2 {
			_ = walkProto(data, func(field int, wire int, v uint64, data []byte) {
				switch {
				case field == 1 && wire == 0:
					rejected = int64(v)
				case field == 2 && wire == 2:
					msg = string(data)
				}
			})
		}
	})
	return rejected, msg
}

var errBadProto = errors.New("malformed protobuf")

// walkProto calls fn for every field of a protobuf message: v holds
// varint and fixed values, data the bytes of length-delimited fields.
func walkProto(b []byte, fn func(field, wire int, v uint64, data []byte)) error {
	for len(b) > 0 {
		tag, n := uvarint(b)
		if n <= 0 {
			return errBadProto
		}
		b = b[n:]
		field, wire := int(tag>>3), int(tag&7)
		switch wire {
		case 0:
			v, n := uvarint(b)
			if n <= 0 {
				return errBadProto
			}
			fn(field, wire, v, nil)
			b = b[n:]
		case 1:
			if len(b) < 8 {
				return errBadProto
			}
			var v uint64
			for i := 7; i >= 0; i-- {
				v = v<<8 | uint64(b[i])
			}
			fn(field, wire, v, nil)
			b = b[8:]
		case 2:
			l, n := uvarint(b)
			if n <= 0 || l > uint64(len(b)-n) {
				return errBadProto
			}
			fn(field, wire, 0, b[n:n+int(l)])
			b = b[n+int(l):]
		case 5:
			if len(b) < 4 {
				return errBadProto
			}
			v := uint64(b[0]) | uint64(b[1])<<8 | uint64(b[2])<<16 | uint64(b[3])<<24
			fn(field, wire, v, nil)
			b = b[4:]
		default:
			return errBadProto
		}
	}
	return nil
}

func uvarint(b []byte) (uint64, int) {
	var v uint64
	for i := 0; i < len(b) && i < 10; i++ {
		v |= uint64(b[i]&0x7f) << (7 * i)
		if b[i] < 0x80 {
			return v, i + 1
		}
	}
	return 0, 0
}

// snippet returns the start of an error body for a message: the message of
// a protobuf google.rpc.Status (field 2), else the text with whitespace
// collapsed, at most maxSnippet bytes.
func snippet(b []byte, mediaType string) string {
	if strings.Contains(mediaType, "protobuf") {
		var msg string
		if walkProto(b, func(field, wire int, _ uint64, data []byte) {
			if field == 2 && wire == 2 {
				msg = string(data)
			}
		}) == nil && msg != "" {
			b = []byte(msg)
		} else {
			return fmt.Sprintf("(%d bytes of protobuf)", len(b))
		}
	}
	s := strings.Join(strings.Fields(strings.ToValidUTF8(string(b), "?")), " ")
	if len(s) > maxSnippet {
		cut := maxSnippet
		for cut > 0 && !utf8.RuneStart(s[cut]) {
			cut--
		}
		s = s[:cut] + "…"
	}
	return s
}
