package ingest

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"hash/fnv"
	"io"
	"maps"
	"os"
	"path"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Options configure a Corpus.
type Options struct {
	Parse ParseOptions
	// Agents and Sessions restrict what is read. A session matches by exact
	// session id, session key, or id prefix.
	Agents, Sessions []string
	// Workers is the number of sessions parsed concurrently; 0 means
	// GOMAXPROCS. Output order does not depend on it.
	Workers int
	// Shard selects the K-th of N slices of the sessions (1-based K),
	// deterministically by session id. Zero N means no sharding.
	ShardK, ShardN int
	// Stdin replaces os.Stdin for the "-" path (tests).
	Stdin io.Reader
}

// MaxLineErrorsKept bounds the line errors a Session keeps; all are counted.
const MaxLineErrorsKept = 50

// CopyStat says what one copy of a session contributed.
type CopyStat struct {
	Name    string
	Copy    CopyKind
	DB      bool
	Entries int // entries read from this copy
	Dups    int // of which already seen in an earlier copy
}

// Session is everything known about one session: its distinct entries across
// all copies in append order, its index row, and its evidence events.
type Session struct {
	AgentID   string
	SessionID string
	// Key is the session key from the index ("" if no index row names it).
	Key    string
	Index  *IndexRow // nil when no index row names this session
	Header *Header   // nil when no copy had a header line

	// Entries are deduped by entry id: an entry seen in several copies (the
	// database and its exported files, archives) is kept once, from the
	// first copy in discovery order (database, live file, archives).
	Entries []Entry
	Copies  []CopyStat

	// Hooks are the hook-dump events of this session, ordered by (time,
	// pid, seq, source). Trajectory holds trajectory events likewise.
	Hooks      []HookEvent
	Trajectory []HookEvent

	// LineErrors holds the first MaxLineErrorsKept bad lines; SkippedLines
	// counts all of them.
	LineErrors   []*LineError
	SkippedLines int
	// FileErrors are the copies that could not be read, or not to the end
	// (an unreadable file or database, a corrupt compressed stream): one
	// per copy, not counted in SkippedLines — a file is not a line.
	FileErrors []*LineError
	// Deleted is true when only archived (deleted or reset) copies exist.
	Deleted bool
	// HookOnly is true when the session is known only from hook events.
	HookOnly bool
}

// DupEntries returns how many entries were seen again in later copies.
func (s *Session) DupEntries() int {
	n := 0
	for _, c := range s.Copies {
		n += c.Dups
	}
	return n
}

func (s *Session) lineError(src Source, err error) {
	if src.Line == 0 {
		s.fileError(src, err)
		return
	}
	s.SkippedLines++
	if len(s.LineErrors) < MaxLineErrorsKept {
		s.LineErrors = append(s.LineErrors, &LineError{Src: src, Err: err})
	}
}

// fileError records a copy that could not be read (src.Line 0) or not
// past src.Line.
func (s *Session) fileError(src Source, err error) {
	s.FileErrors = append(s.FileErrors, &LineError{Src: src, Err: err})
}

type group struct {
	agent, session string
	shardKey       string // --shard: the session the fork chain starts from
	sources        []TranscriptSource
	trajectories   []FileRef
}

// Corpus is an opened set of inputs: discovery done, indexes and hook dumps
// loaded (compactly), transcripts not yet read.
type Corpus struct {
	Inv *Inventory
	opt Options

	byKey map[string]*IndexRow // session key → row
	// byScopeKey: session key → row of each scope, when sessions were
	// renamed apart (Inventory.Renamed).
	byScopeKey map[scopedKey]*IndexRow
	byID       map[string]*IndexRow   // agent/sessionId → current row
	hooks      map[string][]HookEvent // events of compressed hook dumps, by session id
	hookRefs   map[string][]hookRef   // lines of plain hook dumps, by session id
	timeline   map[string][]HookEvent // diagnostics-timeline model calls, by run id
	groups     []group
	stats      CorpusStats
	dbs        dbPool
}

// CorpusStats are counts gathered while opening.
type CorpusStats struct {
	IndexRows        int
	HookLines        int // hook-dump lines read and kept
	HookUnattributed int // valid hook lines not tied to any session (process-level hooks)
	HookSkipped      int // bad hook-dump lines
	TimelineLines    int // diagnostics-timeline lines read (model-call records are used)
	// Errors are problems outside transcripts: discovery problems, bad index
	// rows, bad hook lines (the first MaxLineErrorsKept of them).
	Errors []error
}

// Stats returns what Open counted.
func (c *Corpus) Stats() CorpusStats { return c.stats }

// Open discovers inputs and loads the sessions index and the hook dumps.
// Problems are collected in Stats().Errors; Open only fails when nothing at
// all could be discovered.
func Open(paths []string, opt Options) (*Corpus, error) {
	c := &Corpus{opt: opt, byKey: map[string]*IndexRow{}, byScopeKey: map[scopedKey]*IndexRow{}, byID: map[string]*IndexRow{}, hooks: map[string][]HookEvent{}, hookRefs: map[string][]hookRef{}}
	if opt.Stdin == nil {
		c.opt.Stdin = os.Stdin
	}
	c.Inv = Discover(paths)
	c.stats.Errors = append(c.stats.Errors, c.Inv.Problems...)
	c.loadIndexes()
	c.loadHooks()
	c.loadTimelines()
	c.buildGroups()
	missing := 0
	for _, p := range c.Inv.Problems {
		if errors.Is(p, ErrNoSuchInput) {
			missing++
		}
	}
	if len(c.groups) == 0 && missing > 0 && missing == len(paths) {
		return c, fmt.Errorf("no usable input: %w", errors.Join(c.Inv.Problems...))
	}
	return c, nil
}

func (c *Corpus) addError(err error) {
	if len(c.stats.Errors) < 4*MaxLineErrorsKept {
		c.stats.Errors = append(c.stats.Errors, err)
	}
}

type scopedKey struct {
	scope int
	key   string
}

// rowByKey resolves a session key, from the index of the same scope first
// (two inputs may share a key for different sessions; see
// Inventory.Renamed).
func (c *Corpus) rowByKey(scope int, key string) *IndexRow {
	if r := c.byScopeKey[scopedKey{scope, key}]; r != nil {
		return r
	}
	return c.byKey[key]
}

func (c *Corpus) addIndexRow(scope int, agent string, row IndexRow) {
	r := row
	r.SessionID = c.Inv.Rename(scope, r.SessionID)
	c.stats.IndexRows++
	if _, ok := c.byKey[r.SessionKey]; !ok {
		c.byKey[r.SessionKey] = &r
	}
	if len(c.Inv.Renamed) > 0 {
		sk := scopedKey{scope, r.SessionKey}
		if _, ok := c.byScopeKey[sk]; !ok {
			c.byScopeKey[sk] = &r
		}
	}
	if r.SessionID != "" {
		c.byID[agent+"/"+r.SessionID] = &r
		// A transcript named otherwise than its session id (a topic's
		// <id>-topic-<n>.jsonl) is found by its file name too.
		if f := transcriptBase(r.SessionFile); f != "" && f != r.SessionID {
			if _, ok := c.byID[agent+"/"+f]; !ok {
				c.byID[agent+"/"+f] = &r
			}
		}
	}
}

func (c *Corpus) loadIndexes() {
	for _, db := range c.Inv.Databases {
		rows, errs := readDBIndex(db.Path, db.Name, db.AgentID)
		for _, e := range errs {
			c.addError(e)
		}
		for _, r := range rows {
			c.addIndexRow(db.Scope, db.AgentID, r)
		}
	}
	for _, ix := range c.Inv.Indexes {
		f, err := os.Open(ix.Path)
		if err != nil {
			c.addError(fmt.Errorf("%s: %w", ix.Name, describeOpenErr(err)))
			continue
		}
		agent := ix.AgentID
		errs := ParseIndex(f, ix.Name, func(r IndexRow) {
			a := agent
			if a == "" || a == "unknown" {
				if k := AgentIDFromKey(r.SessionKey); k != "" {
					a = k
				}
			}
			c.addIndexRow(ix.Scope, a, r)
		})
		f.Close()
		for _, e := range errs {
			c.addError(e)
		}
	}
}

// hookRef locates one hook-dump line on disk, so that a session's hook
// events can be read again when the session is read instead of being held
// in memory for the whole run.
type hookRef struct {
	file int32 // index in Inv.Hooks
	line int32
	off  int64
	n    int32
}

// loadHooks reads every hook dump once, checks every line, and files each
// line under its session: by sessionId; else through its run id (learned
// from events that carry both) or its session key (through the index);
// subagent hooks under the requesting (parent) session. Uncompressed dumps
// are indexed by offset (24 bytes a line) and re-read per session;
// compressed ones are kept in memory as compact events.
// hookPend is one valid hook line as pass 1 files it.
type hookPend struct {
	ref                      hookRef
	ev                       *HookEvent // compressed dumps only
	sid, run, key, requester string
	subagent                 bool
}

// hookSeg is what pass 1 found in one segment of a hook dump. Line numbers
// are relative to the segment until loadHooks shifts them.
type hookSeg struct {
	pending    []hookPend
	errs       []*LineError
	runSession map[string]string // first session seen per run id
	lines      int
	valid      int
	skipped    int
}

func (c *Corpus) loadHooks() {
	var pending []hookPend
	runSession := map[string]string{}
	workers := c.opt.Workers
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	for fi, h := range c.Inv.Hooks {
		segs, err := c.readHookFile(fi, h, workers)
		if err != nil {
			c.addError(fmt.Errorf("%s: %w", h.Name, describeOpenErr(err)))
			continue
		}
		base := 0
		for _, sg := range segs {
			for _, e := range sg.errs {
				e.Src.Line += base
				c.addError(e)
			}
			for k := range sg.pending {
				sg.pending[k].ref.line += int32(base)
				if ev := sg.pending[k].ev; ev != nil {
					ev.Src.Line += base
				}
			}
			for run, sid := range sg.runSession {
				if _, ok := runSession[run]; !ok {
					runSession[run] = sid
				}
			}
			pending = append(pending, sg.pending...)
			c.stats.HookLines += sg.valid
			c.stats.HookSkipped += sg.skipped
			base += sg.lines
		}
	}
	for _, p := range pending {
		scope := c.Inv.Hooks[p.ref.file].Scope
		sid := p.sid
		if p.subagent {
			sid = ""
			if r := c.rowByKey(scope, p.requester); r != nil {
				sid = r.SessionID
			}
		}
		if sid == "" && p.run != "" {
			sid = runSession[p.run]
		}
		if sid == "" && p.key != "" {
			if r := c.rowByKey(scope, p.key); r != nil {
				sid = r.SessionID
			}
		}
		if sid == "" {
			c.stats.HookUnattributed++
			continue
		}
		// A session id shared by another scope's different session: the
		// dump's own scope decides which one.
		sid = c.Inv.Rename(scope, sid)
		if p.ev != nil {
			p.ev.SessionID = sid
			c.hooks[sid] = append(c.hooks[sid], *p.ev)
		} else {
			c.hookRefs[sid] = append(c.hookRefs[sid], p.ref)
		}
	}
}

// readHookFile runs pass 1 over one hook dump. A large uncompressed dump is
// cut at line boundaries into segments parsed concurrently; the segments
// come back in file order. runSession keeps the first session per run id
// within each segment, and segments merge in order, so the result is the
// same as one sequential pass.
func (c *Corpus) readHookFile(fi int, h FileRef, workers int) ([]hookSeg, error) {
	compressed := strings.HasSuffix(h.Path, ".gz") || strings.HasSuffix(h.Path, ".zst")
	st, err := os.Stat(h.Path)
	if err != nil {
		return nil, err
	}
	cuts := []int64{0, st.Size()}
	if !compressed && workers > 1 && st.Size() > hookSegmentMin {
		if cuts, err = lineCuts(h.Path, st.Size(), workers); err != nil {
			return nil, err
		}
	}
	segs := make([]hookSeg, len(cuts)-1)
	errs := make([]error, len(cuts)-1)
	var wg sync.WaitGroup
	for k := range segs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			segs[k], errs[k] = c.readHookSegment(fi, h, cuts[k], cuts[k+1], compressed)
		}()
	}
	wg.Wait()
	return segs, errors.Join(errs...)
}

// hookSegmentMin is the dump size from which pass 1 is split across
// workers (a variable for tests).
var hookSegmentMin int64 = 8 << 20

// lineCuts returns n+1 offsets from 0 to size, each inner one just after a
// newline.
func lineCuts(path string, size int64, n int) ([]int64, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	cuts := []int64{0}
	buf := make([]byte, 64<<10)
	for k := 1; k < n; k++ {
		at := size * int64(k) / int64(n)
		if at <= cuts[len(cuts)-1] {
			continue
		}
		for {
			m, err := f.ReadAt(buf, at)
			if i := bytes.IndexByte(buf[:m], '\n'); i >= 0 {
				at += int64(i) + 1
				break
			}
			at += int64(m)
			if err != nil || at >= size {
				at = size
				break
			}
		}
		if at < size && at > cuts[len(cuts)-1] {
			cuts = append(cuts, at)
		}
	}
	return append(cuts, size), nil
}

func (c *Corpus) readHookSegment(fi int, h FileRef, from, to int64, compressed bool) (hookSeg, error) {
	sg := hookSeg{runSession: map[string]string{}}
	var rc io.ReadCloser
	var err error
	if compressed {
		rc, err = openMaybeCompressed(h.Path)
	} else {
		var f *os.File
		if f, err = os.Open(h.Path); err == nil {
			rc = &multiCloser{Reader: io.NewSectionReader(f, from, to-from), closers: []func() error{f.Close}}
		}
	}
	if err != nil {
		return sg, err
	}
	defer rc.Close()
	lr := newLineReader(rc)
	defer lr.release()
	lr.n = from // offsets are absolute
	cache := strCaches.Get().(*strCache)
	defer strCaches.Put(cache)
	for {
		line, err := lr.next()
		if err == io.EOF {
			break
		}
		src := Source{File: h.Name, Line: lr.line}
		if err != nil {
			sg.errs = append(sg.errs, &LineError{Src: src, Err: err})
			sg.skipped++
			break
		}
		if len(line) == 0 || isBlank(line) {
			continue
		}
		ev, err := parseHookLine(line, src, true, cache)
		if err != nil {
			if lr.last && strings.Contains(err.Error(), "invalid JSON") {
				err = fmt.Errorf("truncated last line (file still being written?): %w", err)
			}
			if len(sg.errs) < 4*MaxLineErrorsKept {
				sg.errs = append(sg.errs, &LineError{Src: src, Err: err})
			}
			sg.skipped++
			continue
		}
		sg.valid++
		if ev.SessionID != "" && ev.RunID != "" {
			if _, ok := sg.runSession[ev.RunID]; !ok {
				sg.runSession[ev.RunID] = ev.SessionID
			}
		}
		p := hookPend{ref: hookRef{file: int32(fi), line: int32(lr.line), off: lr.off, n: int32(lr.n - lr.off)},
			sid: ev.SessionID, subagent: ev.Kind == HookSubagentSpawned || ev.Kind == HookSubagentEnded || strings.HasPrefix(ev.Name, "subagent_")}
		if p.subagent || p.sid == "" {
			p.run, p.key, p.requester = ev.RunID, ev.SessionKey, ev.RequesterKey
		}
		if compressed {
			e := ev
			p.ev = &e
		}
		sg.pending = append(sg.pending, p)
	}
	sg.lines = lr.line
	return sg, nil
}

// loadTimelines reads the diagnostics timelines and keeps their model-call
// records (two small events per provider call), filed by run id.
func (c *Corpus) loadTimelines() {
	for _, t := range c.Inv.Timelines {
		err := c.readLines(TranscriptSource{Path: t.Path, Name: t.Name}, func(line []byte, n int, last bool) {
			if len(line) == 0 || isBlank(line) {
				return
			}
			src := Source{File: t.Name, Line: n}
			ev, err := ParseTimelineLine(line, src)
			if err != nil {
				c.addError(&LineError{Src: src, Err: err})
				c.stats.HookSkipped++
				return
			}
			c.stats.TimelineLines++
			if (ev.Kind == HookModelCallStarted || ev.Kind == HookModelCallEnded) && ev.RunID != "" {
				if c.timeline == nil {
					c.timeline = map[string][]HookEvent{}
				}
				c.timeline[ev.RunID] = append(c.timeline[ev.RunID], ev)
			}
		})
		if err != nil {
			c.addError(fmt.Errorf("%s: %w", t.Name, err))
		}
	}
}

// addTimeline adds the timeline's model calls of the session's runs (run
// ids from its entries and hooks) to s.Hooks, for runs whose hook dump has
// no model_call_* events of its own.
func (c *Corpus) addTimeline(s *Session) {
	if len(c.timeline) == 0 {
		return
	}
	hooked := map[string]bool{}
	runs := map[string]bool{}
	for i := range s.Hooks {
		h := &s.Hooks[i]
		if h.Kind == HookModelCallStarted {
			hooked[h.RunID] = true
		}
		runs[h.RunID] = true
	}
	for i := range s.Entries {
		if m := s.Entries[i].Msg; m != nil && m.RunID != "" {
			runs[m.RunID] = true
		}
	}
	added := false
	for _, run := range slices.Sorted(maps.Keys(runs)) {
		if hooked[run] {
			continue
		}
		if evs := c.timeline[run]; len(evs) > 0 {
			s.Hooks = append(s.Hooks, evs...)
			added = true
		}
	}
	if added {
		slices.SortStableFunc(s.Hooks, CompareHookEvents)
	}
}

// readHooks returns the hook events of one session, ordered.
func (c *Corpus) readHooks(s *Session) {
	cache := strCaches.Get().(*strCache)
	defer strCaches.Put(cache)
	refs := c.hookRefs[s.SessionID]
	// Sized once: a HookEvent is ~0.5 KB, and append's doubling would hold
	// up to twice the session's events.
	evs := make([]HookEvent, 0, len(c.hooks[s.SessionID])+len(refs))
	evs = append(evs, c.hooks[s.SessionID]...)
	var f *os.File
	cur := int32(-1)
	var buf []byte
	for k := 0; k < len(refs); {
		r := refs[k]
		if r.file != cur {
			if f != nil {
				f.Close()
			}
			var err error
			if f, err = os.Open(c.Inv.Hooks[r.file].Path); err != nil {
				s.lineError(Source{File: c.Inv.Hooks[r.file].Name}, describeOpenErr(err))
				f, cur = nil, -1
				k++
				continue
			}
			cur = r.file
		}
		// Lines of one run usually sit next to each other in the dump: read
		// a stretch of adjacent lines (up to 4 MiB) with one call.
		end := k + 1
		size := int64(r.n)
		for end < len(refs) && refs[end].file == r.file && refs[end].off == refs[end-1].off+int64(refs[end-1].n) && size+int64(refs[end].n) <= 4<<20 {
			size += int64(refs[end].n)
			end++
		}
		if int64(cap(buf)) < size {
			buf = make([]byte, size)
		}
		chunk := buf[:size]
		name := c.Inv.Hooks[r.file].Name
		if _, err := f.ReadAt(chunk, r.off); err != nil {
			s.lineError(Source{File: name, Line: int(r.line)}, fmt.Errorf("re-reading hook lines: %w", err))
			k = end
			continue
		}
		for ; k < end; k++ {
			q := refs[k]
			b := chunk[q.off-r.off : q.off-r.off+int64(q.n)]
			src := Source{File: name, Line: int(q.line)}
			ev, err := parseHookLine(trimCR(bytes.TrimRight(b, "\n")), src, true, cache)
			if err != nil {
				s.lineError(src, fmt.Errorf("hook line changed since it was first read: %w", err))
				continue
			}
			if ev.Kind == HookAfterToolCall && !c.opt.Parse.Content {
				// A tool's error text is its output: content, kept only
				// with --content (the transcript's is dropped likewise).
				ev.Error = ""
			}
			evs = append(evs, ev)
		}
	}
	if f != nil {
		f.Close()
	}
	slices.SortStableFunc(evs, CompareHookEvents)
	s.Hooks = dedupeHooks(evs)
}

// dedupeHooks drops the second and later copies of one hook line (a dump
// copied into a backup, or rotated and kept twice): the same hook, process,
// sequence number, time and ids (not the session id: the events are already
// filed under one session, and a renamed one's compressed copies carry the
// new id). Copies sort next to each other (same time),
// so only events of equal time are compared.
func dedupeHooks(evs []HookEvent) []HookEvent {
	out := evs[:0]
	group := 0 // start in out of the events with the current time
	for _, ev := range evs {
		if len(out) > 0 && !out[len(out)-1].Time.Equal(ev.Time) {
			group = len(out)
		}
		dup := false
		for k := group; k < len(out); k++ {
			if sameHookLine(&out[k], &ev) {
				dup = true
				break
			}
		}
		if !dup {
			out = append(out, ev)
		}
	}
	return out
}

func sameHookLine(a, b *HookEvent) bool {
	return a.Name == b.Name && a.Seq == b.Seq && a.PID == b.PID && a.Time.Equal(b.Time) &&
		a.RunID == b.RunID && a.CallID == b.CallID && a.ToolCallID == b.ToolCallID &&
		a.SessionKey == b.SessionKey && a.Usage.Input == b.Usage.Input && a.Usage.Output == b.Usage.Output
}

// CompareHookEvents orders evidence events by time, then process and
// sequence number, then source position: a total order.
func CompareHookEvents(a, b HookEvent) int {
	if c := a.Time.Compare(b.Time); c != 0 {
		return c
	}
	if a.PID == b.PID && a.Seq != b.Seq {
		if a.Seq < b.Seq {
			return -1
		}
		return 1
	}
	if c := strings.Compare(a.Src.File, b.Src.File); c != 0 {
		return c
	}
	return a.Src.Line - b.Src.Line
}

func isBlank(b []byte) bool {
	for _, c := range b {
		if c != ' ' && c != '\t' && c != '\r' {
			return false
		}
	}
	return true
}

func (c *Corpus) buildGroups() {
	traj := map[string][]FileRef{}
	for _, t := range c.Inv.Trajectories {
		traj[t.SessionID] = append(traj[t.SessionID], t)
	}
	seen := map[string]bool{}
	for _, t := range c.Inv.Transcripts {
		n := len(c.groups)
		if n > 0 && c.groups[n-1].agent == t.AgentID && c.groups[n-1].session == t.SessionID && t.SessionID != "" {
			c.groups[n-1].sources = append(c.groups[n-1].sources, t)
			continue
		}
		c.groups = append(c.groups, group{agent: t.AgentID, session: t.SessionID, sources: []TranscriptSource{t}, trajectories: traj[t.SessionID]})
		seen[t.SessionID] = true
	}
	// Sessions known only from hook events (hook dumps alone, or internal
	// runs such as pre-inference compaction that have no transcript).
	hookOnlySet := map[string]bool{}
	for sid := range c.hooks {
		if !seen[sid] {
			hookOnlySet[sid] = true
		}
	}
	for sid := range c.hookRefs {
		if !seen[sid] {
			hookOnlySet[sid] = true
		}
	}
	hookOnly := slices.Sorted(maps.Keys(hookOnlySet))
	for _, sid := range hookOnly {
		agent := ""
		tmp := &Session{SessionID: sid}
		c.readHooks(tmp)
		for _, ev := range tmp.Hooks {
			if ev.AgentID != "" {
				agent = ev.AgentID
				break
			}
			if a := AgentIDFromKey(ev.SessionKey); a != "" {
				agent = a
				break
			}
		}
		if agent == "" {
			agent = "unknown"
		}
		c.groups = append(c.groups, group{agent: agent, session: sid})
	}
	slices.SortStableFunc(c.groups, func(a, b group) int {
		if x := strings.Compare(a.agent, b.agent); x != 0 {
			return x
		}
		return strings.Compare(a.session, b.session)
	})
	if c.opt.ShardN > 0 {
		c.forkRoots()
	}
	c.groups = slices.DeleteFunc(c.groups, func(g group) bool { return !c.selected(g) })
}

// forkRoots sets each group's shard key to the session its fork chain
// starts from (header parentSession, index forkSource), so that a /fork
// copy lands in the same shard as its original: the fork dedup, which
// counts a copied call in the first session that has it, then sees both,
// and the union of the shards counts it once as the unsharded run does.
// Only --shard reads the headers for this.
func (c *Corpus) forkRoots() {
	parent := map[string]string{}
	for _, g := range c.groups {
		if r := c.byID[g.agent+"/"+g.session]; r != nil && r.ForkSourceID != "" {
			parent[g.session] = r.ForkSourceID
			continue
		}
		for _, src := range g.sources {
			if !src.DB && src.Path != "-" {
				if _, p := peekHeader(src.Path); p != "" {
					parent[g.session] = p
				}
				break
			}
		}
	}
	for i := range c.groups {
		g := &c.groups[i]
		root := g.session
		for range 64 { // a chain, not a cycle
			p, ok := parent[root]
			if !ok || p == root {
				break
			}
			root = p
		}
		g.shardKey = root
	}
}

func (c *Corpus) selected(g group) bool {
	if len(c.opt.Agents) > 0 && !slices.Contains(c.opt.Agents, g.agent) {
		return false
	}
	if len(c.opt.Sessions) > 0 {
		key := ""
		if r := c.byID[g.agent+"/"+g.session]; r != nil {
			key = r.SessionKey
		}
		ok := false
		for _, s := range c.opt.Sessions {
			if s == g.session || s == key || strings.HasPrefix(g.session, s) {
				ok = true
				break
			}
		}
		if !ok {
			return false
		}
	}
	if c.opt.ShardN > 0 {
		h := fnv.New64a()
		key := g.shardKey
		if key == "" {
			key = g.session
		}
		h.Write([]byte(key))
		if int(h.Sum64()%uint64(c.opt.ShardN)) != c.opt.ShardK-1 {
			return false
		}
	}
	return true
}

// NumSessions returns how many sessions Each will deliver.
func (c *Corpus) NumSessions() int { return len(c.groups) }

// HasSession reports whether the inputs (as selected) hold the session.
func (c *Corpus) HasSession(agentID, sessionID string) bool {
	_, ok := slices.BinarySearchFunc(c.groups, [2]string{agentID, sessionID}, func(g group, k [2]string) int {
		if x := strings.Compare(g.agent, k[0]); x != 0 {
			return x
		}
		return strings.Compare(g.session, k[1])
	})
	return ok
}

// Each reads the sessions concurrently and calls fn for each, one at a time,
// in (agent id, session id) order. At most a small window of sessions is in
// memory at once. An error from fn stops the iteration and is returned.
func (c *Corpus) Each(ctx context.Context, fn func(*Session) error) error {
	return EachWith(ctx, c, func(*Session) struct{} { return struct{}{} }, func(s *Session, _ struct{}) error { return fn(s) })
}

// EachWith is Each with a per-session step that runs concurrently in the
// workers (work, e.g. reconstruction) before the ordered, one-at-a-time
// step (fn, e.g. writing output). Results reach fn in (agent id, session
// id) order whatever the number of workers.
func EachWith[T any](ctx context.Context, c *Corpus, work func(*Session) T, fn func(*Session, T) error) error {
	type result struct {
		s *Session
		v T
	}
	workers := c.opt.Workers
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	c.dbs.max = workers
	defer c.dbs.close()
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	type job struct {
		g   *group
		out chan result
	}
	jobs := make(chan job)
	order := make(chan chan result, 2*workers)
	var wg sync.WaitGroup
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := range jobs {
				s := c.readSession(j.g)
				j.out <- result{s, work(s)}
			}
		}()
	}
	go func() {
		defer close(order)
		defer close(jobs)
		for i := range c.groups {
			out := make(chan result, 1)
			select {
			case order <- out:
			case <-ctx.Done():
				return
			}
			select {
			case jobs <- job{&c.groups[i], out}:
			case <-ctx.Done():
				return
			}
		}
	}()
	var err error
	for out := range order {
		if err != nil {
			continue
		}
		// N.B. once ctx is done the producer may have queued out without
		// dispatching its job: never wait on out alone.
		var r result
		select {
		case r = <-out:
		case <-ctx.Done():
			err = ctx.Err()
			continue
		}
		if e := ctx.Err(); e != nil {
			err = e
			cancel()
			continue
		}
		if e := fn(r.s, r.v); e != nil {
			err = e
			cancel()
		}
	}
	wg.Wait()
	if err == nil {
		err = ctx.Err() // cancelled before anything was delivered
	}
	return err
}

// strCaches are the string caches of the parsers, one per session or hook
// segment being read.
var strCaches = sync.Pool{New: func() any { return new(strCache) }}

// readSession reads every copy of one session and merges them.
func (c *Corpus) readSession(g *group) *Session {
	s := &Session{AgentID: g.agent, SessionID: g.session}
	cache := strCaches.Get().(*strCache)
	defer strCaches.Put(cache)
	type entryKey struct {
		id string // entry id, "\x00header", or "\x00raw"+hash for id-less entries
		ms int64  // message time: the same id with another time is another entry
	}
	seen := make(map[entryKey]struct{}, 256)
	onlyArchived := len(g.sources) > 0
	for _, src := range g.sources {
		if src.Copy == CopyLive || src.Copy == CopyCold || src.Copy == CopyCheckpoint {
			onlyArchived = false
		}
		st := CopyStat{Name: src.Name, Copy: src.Copy, DB: src.DB}
		add := func(line []byte, pos Source, last bool, created time.Time) {
			if len(line) == 0 || isBlank(line) {
				return
			}
			e, err := parseEntry(line, pos, c.opt.Parse, true, cache)
			if err != nil {
				if last && strings.Contains(err.Error(), "invalid JSON") {
					err = fmt.Errorf("truncated last line (file still being written?): %w", err)
				}
				s.lineError(pos, err)
				return
			}
			st.Entries++
			if e.Time.IsZero() && !created.IsZero() {
				e.Time = created // SQLite row without an entry timestamp
			}
			// Copies of one entry agree on id and message time; the same id
			// with another message time is another entry.
			key := entryKey{id: e.ID}
			if e.Msg != nil && key.id != "" {
				key.ms = e.Msg.Time.UnixMilli()
			}
			if e.Kind == EntryHeader {
				key = entryKey{id: "\x00header"}
			} else if key.id == "" {
				sum := sha256.Sum256(line)
				key.id = "\x00raw" + string(sum[:12])
			}
			if _, dup := seen[key]; dup {
				st.Dups++
				return
			}
			seen[key] = struct{}{}
			if e.Kind == EntryHeader {
				s.Header = &Header{SessionID: e.ID, Version: e.Version, Time: e.Time, Cwd: e.Cwd, ParentSession: e.ParentSession}
				if s.SessionID == "" {
					s.SessionID = e.ID
				}
			}
			s.Entries = append(s.Entries, e)
		}
		var err error
		switch {
		case src.DB:
			var db *sql.DB
			if db, err = c.dbs.get(src.Path); err != nil {
				break
			}
			err = readDBTranscript(db, src.fileSessionID(), func(line []byte, seq, created int64, bad error) error {
				if bad != nil {
					s.lineError(Source{File: src.Name, Line: int(seq) + 1}, bad)
					return nil
				}
				add(line, Source{File: src.Name, Line: int(seq) + 1}, false, createdAtTime(created))
				return nil
			})
		case src.Copy == CopyCold:
			err = c.readLines(src, func(line []byte, n int, last bool) {
				if r, ok := coldRecordOf(line); ok {
					if r.Kind == "event" {
						add([]byte(r.Row.EventJSON), Source{File: src.Name, Line: n}, false, createdAtTime(r.Row.CreatedAt))
					}
					return
				}
				add(line, Source{File: src.Name, Line: n}, last, time.Time{})
			})
		default:
			err = c.readLines(src, func(line []byte, n int, last bool) {
				add(line, Source{File: src.Name, Line: n}, last, time.Time{})
			})
		}
		if re := (*readErr)(nil); errors.As(err, &re) {
			s.fileError(Source{File: src.Name, Line: re.line}, fmt.Errorf("reading stopped here: %w", re.err))
		} else if err != nil {
			s.lineError(Source{File: src.Name}, err)
		}
		s.Copies = append(s.Copies, st)
	}
	s.Deleted = onlyArchived
	if len(s.Copies) > 1 {
		// Copies may interleave (an archive holding entries the live copy
		// no longer has): keep append order by entry time, stable.
		if !slices.IsSortedFunc(s.Entries, cmpEntryTime) {
			slices.SortStableFunc(s.Entries, cmpEntryTime)
		}
	}
	v1Synthetic(s)
	c.attachEvidence(s, g)
	if s.Index == nil {
		s.Index = c.byID[s.AgentID+"/"+s.SessionID]
	}
	if s.Index != nil {
		s.Key = s.Index.SessionKey
	}
	s.HookOnly = len(g.sources) == 0
	return s
}

func cmpEntryTime(a, b Entry) int {
	if a.Kind == EntryHeader || b.Kind == EntryHeader {
		if a.Kind == b.Kind {
			return 0
		}
		if a.Kind == EntryHeader {
			return -1
		}
		return 1
	}
	if a.Time.IsZero() || b.Time.IsZero() {
		return 0
	}
	return a.Time.Compare(b.Time)
}

// v1Synthetic gives v1 entries (no id/parentId) synthetic ids "L<n>" and
// chains them linearly, as the formats doc prescribes.
func v1Synthetic(s *Session) {
	if s.Header == nil || s.Header.Version >= 2 {
		return
	}
	prev := ""
	for i := range s.Entries {
		e := &s.Entries[i]
		if e.Kind == EntryHeader {
			continue
		}
		if e.ID == "" {
			e.ID = "L" + strconv.Itoa(e.Src.Line)
			e.ParentID = prev
		}
		prev = e.ID
	}
}

func (c *Corpus) attachEvidence(s *Session, g *group) {
	c.readHooks(s)
	c.addTimeline(s)
	seen := map[string]struct{}{}
	add := func(ev HookEvent) {
		key := ev.Name + "\x00" + strconv.FormatInt(ev.Seq, 10) + "\x00" + ev.ToolCallID + "\x00" + ev.Time.String()
		if _, dup := seen[key]; dup {
			return
		}
		seen[key] = struct{}{}
		s.Trajectory = append(s.Trajectory, ev)
	}
	for _, src := range g.sources {
		if !src.DB {
			continue
		}
		db, err := c.dbs.get(src.Path)
		if err != nil {
			continue // already reported by the transcript read
		}
		err = readDBTrajectory(db, src.fileSessionID(), func(line []byte, seq int64) error {
			ev, err := ParseTrajectoryLine(line, Source{File: dbSessionName(src.Name) + "#trajectory:" + src.SessionID, Line: int(seq) + 1})
			if err == nil {
				add(ev)
			}
			return nil
		})
		if err != nil {
			s.lineError(Source{File: src.Name}, err)
		}
	}
	for _, t := range g.trajectories {
		if t.AgentID != "" && t.AgentID != s.AgentID && t.AgentID != "unknown" {
			continue
		}
		_ = c.readLines(TranscriptSource{Path: t.Path, Name: t.Name}, func(line []byte, n int, last bool) {
			if len(line) == 0 || isBlank(line) {
				return
			}
			ev, err := ParseTrajectoryLine(line, Source{File: t.Name, Line: n})
			if err != nil {
				s.lineError(Source{File: t.Name, Line: n}, err)
				return
			}
			add(ev)
		})
	}
	slices.SortStableFunc(s.Trajectory, CompareHookEvents)
}

// readLines streams the lines of a file source (or stdin).
func (c *Corpus) readLines(src TranscriptSource, fn func(line []byte, n int, last bool)) error {
	var rc io.ReadCloser
	var err error
	if src.Path == "-" {
		rc, err = decompress(io.NopCloser(c.opt.Stdin), "")
	} else {
		rc, err = openMaybeCompressed(src.Path)
	}
	if err != nil {
		return describeOpenErr(err)
	}
	defer rc.Close()
	lr := newLineReader(rc)
	defer lr.release()
	for {
		line, err := lr.next()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return &readErr{line: lr.line + 1, err: describeOpenErr(err)}
		}
		fn(line, lr.line, lr.last)
	}
}

// readErr is a read that failed part way (a truncated compressed stream, an
// I/O error) at a line: what came before it was used.
type readErr struct {
	line int
	err  error
}

func (e *readErr) Error() string { return fmt.Sprintf("line %d: %v", e.line, e.err) }
func (e *readErr) Unwrap() error { return e.err }

// peekCreated returns the creation time a transcript's header records (its
// timestamp), "" when the file has no readable header.
func peekCreated(path string) string {
	created, _ := peekHeader(path)
	return created
}

// peekHeader reads a transcript's header: its creation time and the
// session it was forked from (parentSession, a path or an id, as a session
// id), each "" when unknown.
func peekHeader(file string) (created, parent string) {
	// The header is a short first line: read only the start of the file.
	line, ok := firstLine(file, 4096)
	if !ok {
		return "", ""
	}
	e, err := ParseEntry(line, Source{}, ParseOptions{})
	if err != nil || e.Kind != EntryHeader {
		return "", ""
	}
	if !e.Time.IsZero() {
		created = e.Time.UTC().Format(time.RFC3339Nano)
	}
	if e.ParentSession != "" {
		parent = path.Base(filepath.ToSlash(e.ParentSession))
		if b := transcriptBase(e.ParentSession); b != "" {
			parent = b
		}
	}
	return created, parent
}

// firstLine returns the first line of a (possibly compressed) file, read
// through a buffer of size bytes; false when the file cannot be read or the
// line is longer.
func firstLine(file string, size int) ([]byte, bool) {
	rc, err := openMaybeCompressed(file)
	if err != nil {
		return nil, false
	}
	defer rc.Close()
	line, err := bufio.NewReaderSize(rc, size).ReadSlice('\n')
	if err != nil && err != io.EOF {
		return nil, false
	}
	return line, true
}

// peekSessionID reads the header of a file to learn its session id.
func peekSessionID(path string) string {
	line, ok := firstLine(path, 1<<20)
	if !ok || len(bytes.TrimSpace(line)) == 0 {
		return ""
	}
	if r, ok := coldRecordOf(line); ok {
		return r.SessionID // a cold archive's own header
	}
	e, err := ParseEntry(line, Source{}, ParseOptions{})
	if err != nil || e.Kind != EntryHeader {
		return ""
	}
	return e.ID
}

// coldRecord is one line of a 2026.8+ cold-storage archive
// (sessions/cold/<sha256>.jsonl.zst): a header naming the session, then its
// transcript rows as {"kind":"event","row":{"seq","event_json","created_at"}},
// then index records (identity, active, index, fts) that carry nothing new.
type coldRecord struct {
	Kind      string `json:"kind"`
	SessionID string `json:"sessionId"`
	Row       struct {
		Seq       int64  `json:"seq"`
		EventJSON string `json:"event_json"`
		CreatedAt int64  `json:"created_at"`
	} `json:"row"`
}

// coldRecordOf decodes line as a cold-archive record; ok is false for any
// other line (a plain transcript entry: older cold archives are transcript
// JSONL).
func coldRecordOf(line []byte) (coldRecord, bool) {
	var r coldRecord
	if !bytes.HasPrefix(bytes.TrimSpace(line), []byte(`{"kind":`)) || json.Unmarshal(line, &r) != nil {
		return r, false
	}
	switch r.Kind {
	case "header", "event", "identity", "active", "index", "fts":
		return r, true
	}
	return r, false
}

// SessionByKey resolves a session key through the loaded indexes.
func (c *Corpus) SessionByKey(key string) (agentID, sessionID string, ok bool) {
	r := c.byKey[key]
	if r == nil || r.SessionID == "" {
		return "", "", false
	}
	agent := AgentIDFromKey(key)
	if agent == "" {
		agent = "unknown"
	}
	return agent, r.SessionID, true
}

// Counts are what a session holds, as scan reports it.
type Counts struct {
	Entries  int
	LLMCalls int // assistant messages, fragments of one response once
	// Synthetic counts the assistant messages among LLMCalls that OpenClaw
	// wrote without a provider call (IsSynthetic).
	Synthetic   int
	ToolCalls   int // distinct tool-call ids (toolCall blocks and toolResults), plus id-less toolCall blocks
	ToolResults int
	UserMsgs    int
	Compactions int
	ByType      map[string]int // entry type (message role for messages) → count
}

// Count tallies the session's entries.
func (s *Session) Count() Counts {
	c := Counts{ByType: map[string]int{}}
	resp := map[string]bool{}
	tools := map[string]bool{}
	for i := range s.Entries {
		e := &s.Entries[i]
		c.Entries++
		if e.Kind == EntryUnknown {
			c.ByType["unknown:"+e.Type]++
		} else if e.Msg != nil {
			c.ByType["message:"+e.Msg.Role.String()]++
		} else {
			c.ByType[e.Kind.String()]++
		}
		if e.Kind == EntryCompaction {
			c.Compactions++
		}
		if e.Msg == nil {
			continue
		}
		switch e.Msg.Role {
		case RoleUser:
			c.UserMsgs++
		case RoleAssistant:
			k := e.Msg.ResponseID
			if k == "" {
				k = e.Msg.TurnID
			}
			if k == "" || !resp[k] {
				c.LLMCalls++
				if IsSynthetic(e.Msg) {
					c.Synthetic++
				}
			}
			if k != "" {
				resp[k] = true
			}
			for _, b := range e.Msg.Blocks {
				if b.Kind == BlockToolCall {
					if b.ToolCallID != "" {
						tools[b.ToolCallID] = true
					} else {
						c.ToolCalls++
					}
				}
			}
		case RoleToolResult:
			c.ToolResults++
			if e.Msg.ToolCallID != "" {
				tools[e.Msg.ToolCallID] = true
			}
		}
	}
	c.ToolCalls += len(tools)
	return c
}

// IsSynthetic reports an assistant message that OpenClaw wrote without a
// provider call, so it carries no usage: the CLI's own replies (api "cli",
// e.g. the context-overflow precheck), bookkeeping rows of the "openclaw"
// provider (delivery mirrors, gateway-injected messages), and a stop with
// neither provider nor model (tool-loop recovery).
func IsSynthetic(m *Message) bool {
	if m.Usage.Known || m.ResponseID != "" {
		return false
	}
	return m.API == "cli" || m.Provider == "openclaw" ||
		(m.StopReason != "error" && m.StopReason != "aborted" && m.Provider == "" && m.Model == "")
}

// transcriptBase is the session id a transcript file name gives (the name
// up to ".jsonl"), "" when there is none.
func transcriptBase(file string) string {
	if file == "" {
		return ""
	}
	b := path.Base(filepath.ToSlash(file))
	if i := strings.Index(b, ".jsonl"); i > 0 {
		return b[:i]
	}
	return ""
}
