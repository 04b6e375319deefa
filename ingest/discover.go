package ingest

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
)

// TranscriptSource is one copy of one session transcript: a file, or the
// rows of one session in an agent database.
type TranscriptSource struct {
	Path      string // what to open ("-" for stdin)
	Name      string // display name, relative to the input root
	AgentID   string
	SessionID string // "" until the header is read (cold archives, stdin)
	Copy      CopyKind
	DB        bool // Path is a SQLite database; read the rows of SessionID
	// Scope is the input (state dir, recording, member of a folder of
	// them) the source was found in; see Inventory.Scopes.
	Scope int
	// FileSessionID is the session id as the file or database names it,
	// when SessionID was made unique (see Inventory.Renamed).
	FileSessionID string
}

// fileSessionID is the id to look the session up by in its own file.
func (t TranscriptSource) fileSessionID() string {
	if t.FileSessionID != "" {
		return t.FileSessionID
	}
	return t.SessionID
}

// FileRef names an auxiliary input file.
type FileRef struct {
	Path, Name         string
	AgentID, SessionID string
	Scope              int // see TranscriptSource.Scope
}

// Inventory is what discovery found, sorted deterministically.
type Inventory struct {
	Transcripts  []TranscriptSource
	Indexes      []FileRef // sessions.json files
	Databases    []FileRef // agent SQLite databases
	Hooks        []FileRef // hook dumps
	Trajectories []FileRef // trajectory sidecars, keyed by session id
	Timelines    []FileRef // diagnostics timelines
	// Problems are inputs that could not be used (missing paths, unreadable
	// dirs); the rest was still discovered.
	Problems []error
	// Scopes names the inputs sources were found in (a state dir, a
	// recording folder, each member of a folder of them), by Scope.
	Scopes     []string
	scopeRoots []string // by scope: the path it stands for
	// Renamed maps a session id of one scope to the id it is reported
	// under: the same id in another scope with another creation time (the
	// header's timestamp) is another session, not a copy — recordings made
	// with fixed session ids — and gets "<id>@<scope name>".
	Renamed map[ScopedID]string
}

// ScopedID is a session id within one scope.
type ScopedID struct {
	Scope     int
	SessionID string
}

// Rename returns the id a session of scope is reported under.
func (inv *Inventory) Rename(scope int, sid string) string {
	if r, ok := inv.Renamed[ScopedID{scope, sid}]; ok {
		return r
	}
	return sid
}

// ErrNoSuchInput marks a path named as an input that does not exist: a
// usage mistake that fails the job, unlike a file found by discovery that
// cannot be read (skipped and counted).
var ErrNoSuchInput = errors.New("no such file or directory")

// DefaultStateDirs returns the state dirs used when no path is given:
// $OPENCLAW_STATE_DIR, else ~/.openclaw (or $OPENCLAW_HOME/.openclaw), plus
// the legacy ~/.clawdbot when present.
func DefaultStateDirs() []string {
	if d := os.Getenv("OPENCLAW_STATE_DIR"); d != "" {
		return []string{d}
	}
	home := os.Getenv("OPENCLAW_HOME")
	if home == "" {
		home, _ = os.UserHomeDir()
	}
	var out []string
	for _, n := range []string{".openclaw", ".clawdbot"} {
		p := filepath.Join(home, n)
		if st, err := os.Stat(p); err == nil && st.IsDir() {
			out = append(out, p)
		}
	}
	if len(out) == 0 {
		out = append(out, filepath.Join(home, ".openclaw"))
	}
	return out
}

// Discover classifies every path and walks directories. It never fails as a
// whole: unusable paths are listed in Problems.
func Discover(paths []string) *Inventory {
	inv := &Inventory{}
	for _, p := range paths {
		inv.add(p, "")
	}
	inv.nameScopes()
	inv.sort()
	inv.splitInstances()
	return inv
}

// stamp sets the scope of everything appended since the lengths in from:
// the recording or state dir p belongs to (see scopeRoot), shared by every
// input of it (DIR/state and DIR/hooks.jsonl are one scope).
func (inv *Inventory) stamp(from [6]int, p string, dir, self bool) {
	root := scopeRoot(p, dir)
	if self {
		// A state dir or recording is its own scope (a recording's state/
		// counts as the recording, like its hook dump beside it).
		root, _ = filepath.Abs(p)
		if root = filepath.Clean(root); filepath.Base(root) == "state" {
			root = filepath.Dir(root)
		}
	}
	scope := slices.Index(inv.scopeRoots, root)
	if scope < 0 {
		scope = len(inv.scopeRoots)
		inv.scopeRoots = append(inv.scopeRoots, root)
	}
	for i := from[0]; i < len(inv.Transcripts); i++ {
		inv.Transcripts[i].Scope = scope
	}
	for k, l := range []*[]FileRef{&inv.Indexes, &inv.Databases, &inv.Hooks, &inv.Trajectories, &inv.Timelines} {
		for i := from[k+1]; i < len(*l); i++ {
			(*l)[i].Scope = scope
		}
	}
}

// scopeRoot is the recording or state dir an input belongs to: the dir
// above "agents" in its path, else the input dir itself or a file's dir;
// a recorder's clawtrace/ dir and a recording's state/ dir count as their
// parent.
func scopeRoot(p string, dir bool) string {
	abs, err := filepath.Abs(p)
	if err != nil {
		abs = filepath.Clean(p)
	}
	parts := strings.Split(filepath.ToSlash(abs), "/")
	root := ""
	for i := len(parts) - 1; i > 0; i-- {
		if parts[i] == "agents" {
			root = filepath.FromSlash(strings.Join(parts[:i], "/"))
			break
		}
	}
	if root == "" {
		root = abs
		if !dir {
			root = filepath.Dir(abs)
			if filepath.Base(root) == "clawtrace" {
				root = filepath.Dir(root)
			}
		}
	}
	if filepath.Base(root) == "state" {
		root = filepath.Dir(root)
	}
	return root
}

// nameScopes names each scope after its root's base name, qualified by as
// many parent folders as it takes to tell the roots apart — independent of
// the order of inputs.
func (inv *Inventory) nameScopes() {
	inv.Scopes = make([]string, len(inv.scopeRoots))
	name := func(r string, depth int) string {
		parts := strings.Split(filepath.ToSlash(r), "/")
		return strings.Join(parts[max(0, len(parts)-depth):], "_")
	}
	// Qualify by more parent folders until the names are unique.
	for depth := 1; depth <= 8; depth++ {
		count := map[string]int{}
		for i, r := range inv.scopeRoots {
			inv.Scopes[i] = name(r, depth)
			count[inv.Scopes[i]]++
		}
		dup := false
		for _, n := range count {
			dup = dup || n > 1
		}
		if !dup {
			return
		}
	}
}

func (inv *Inventory) lens() [6]int {
	return [6]int{len(inv.Transcripts), len(inv.Indexes), len(inv.Databases), len(inv.Hooks), len(inv.Trajectories), len(inv.Timelines)}
}

func (inv *Inventory) problem(format string, a ...any) {
	inv.Problems = append(inv.Problems, fmt.Errorf(format, a...))
}

// add discovers input p. collection is the folder of state dirs or
// recordings p was found in ("" for a path given directly): names are then
// relative to it, so that two recordings' files stay apart in diagnostics
// and evidence.
func (inv *Inventory) add(p, collection string) {
	if p == "-" {
		inv.Transcripts = append(inv.Transcripts, TranscriptSource{Path: "-", Name: "<stdin>", AgentID: "unknown"})
		return
	}
	st, err := os.Stat(p)
	if err != nil {
		if collection == "" && errors.Is(err, fs.ErrNotExist) {
			err = ErrNoSuchInput
		}
		inv.problem("%s: %w", p, describeOpenErr(err))
		return
	}
	root := filepath.Dir(filepath.Clean(p))
	if !st.IsDir() && !st.Mode().IsRegular() {
		// A pipe, socket or device, even named directly: peeking at its
		// header and then reading it would open it twice, and the second
		// open of a pipe waits for a writer forever. A stream is read
		// from stdin ("-").
		if inv.special(root, p) {
			inv.Problems[len(inv.Problems)-1] = fmt.Errorf("%w; to read a stream, pass it on stdin as -", inv.Problems[len(inv.Problems)-1])
		}
		return
	}
	if !st.IsDir() {
		defer inv.stamp(inv.lens(), p, false, false)
		inv.addFile(root, p, "", true)
		return
	}
	stateDir, recording := isDir(filepath.Join(p, "agents")), isDir(filepath.Join(p, "state", "agents"))
	agentDir := isDir(filepath.Join(p, "sessions")) || isDir(filepath.Join(p, "agent"))
	if !stateDir && !recording && !agentDir {
		if kids := collectionChildren(p); len(kids) > 0 {
			// A folder of state dirs or recordings (backups, a corpus):
			// each child on its own.
			for _, k := range kids {
				inv.add(k, p)
			}
			return
		}
	}
	defer inv.stamp(inv.lens(), p, true, stateDir || recording)
	top := p // names relative to the input, or to its collection
	if collection != "" {
		top, root = collection, collection
	}
	switch {
	case stateDir:
		inv.addStateDir(top, p)
	case recording:
		// A recording folder: state/ plus hook dumps beside it.
		inv.addStateDir(top, filepath.Join(p, "state"))
		ms, _ := filepath.Glob(filepath.Join(p, "*.jsonl"))
		for _, m := range ms {
			if !inv.special(top, m) {
				inv.addFile(top, m, "", true)
			}
		}
	case agentDir:
		inv.addAgentDir(root, p, filepath.Base(p))
	default:
		agent := agentFromPath(p)
		inv.addSessionsDir(root, p, agent)
	}
}

// splitInstances finds session ids present in several scopes whose copies
// disagree on the session's creation time (the header's timestamp): those
// are different sessions that happen to share an id, not copies of one.
// The first scope keeps the id; the others report it as "<id>@<scope>".
// Copies that agree (backups of one state dir), or whose header cannot be
// read, stay one session.
func (inv *Inventory) splitInstances() {
	type key struct{ agent, sid string }
	scopes := map[key][]int{}
	sources := map[key][]int{} // indexes in inv.Transcripts
	var keys []key
	for i, t := range inv.Transcripts {
		k := key{t.AgentID, t.SessionID}
		if t.SessionID == "" || t.Path == "-" {
			continue
		}
		if len(scopes[k]) == 0 {
			keys = append(keys, k)
		}
		if !slices.Contains(scopes[k], t.Scope) {
			scopes[k] = append(scopes[k], t.Scope)
		}
		sources[k] = append(sources[k], i)
	}
	for _, k := range keys {
		ss := scopes[k]
		if len(ss) < 2 {
			continue
		}
		slices.Sort(ss)
		created := map[int]string{}
		for _, i := range sources[k] {
			if t := inv.Transcripts[i]; created[t.Scope] == "" {
				if t.DB {
					created[t.Scope] = dbCreated(t.Path, t.SessionID)
				} else {
					created[t.Scope] = peekCreated(t.Path)
				}
			}
		}
		// Cluster the scopes by creation time. With one cluster (copies:
		// backups) nothing is renamed. Otherwise every cluster is reported
		// as <id>@<the smallest scope name in it>, whatever the order of
		// the inputs; scopes that cannot tell join the cluster of the
		// smallest name.
		name := map[string]string{} // creation time → smallest scope name
		for _, s := range ss {
			if c := created[s]; c != "" && (name[c] == "" || inv.Scopes[s] < name[c]) {
				name[c] = inv.Scopes[s]
			}
		}
		if len(name) < 2 {
			continue
		}
		smallest := ""
		for _, n := range name {
			if smallest == "" || n < smallest {
				smallest = n
			}
		}
		if inv.Renamed == nil {
			inv.Renamed = map[ScopedID]string{}
		}
		for _, s := range ss {
			n := name[created[s]]
			if created[s] == "" {
				n = smallest
			}
			inv.Renamed[ScopedID{s, k.sid}] = k.sid + "@" + n
		}
	}
	if len(inv.Renamed) == 0 {
		return
	}
	for i := range inv.Transcripts {
		t := &inv.Transcripts[i]
		if r, ok := inv.Renamed[ScopedID{t.Scope, t.SessionID}]; ok {
			t.FileSessionID, t.SessionID = t.SessionID, r
		}
	}
	for i := range inv.Trajectories {
		f := &inv.Trajectories[i]
		f.SessionID = inv.Rename(f.Scope, f.SessionID)
	}
	inv.sort()
}

// collectionChildren returns the sub-directories of p that are state dirs
// or recording folders, sorted; none if p holds transcripts itself.
func collectionChildren(p string) []string { return collectionDepth(p, 3) }

// collectionDepth is collectionChildren looking depth folders down: a
// corpus of releases of recordings (fixtures/corpus/<release>/<recording>)
// is a folder of folders of recordings.
func collectionDepth(p string, depth int) []string {
	ents, err := os.ReadDir(p)
	if err != nil {
		return nil
	}
	var kids []string
	for _, e := range ents {
		if !e.IsDir() {
			if strings.Contains(e.Name(), ".jsonl") {
				return nil // a sessions dir
			}
			continue
		}
		k := filepath.Join(p, e.Name())
		if isDir(filepath.Join(k, "agents")) || isDir(filepath.Join(k, "state", "agents")) ||
			depth > 1 && !isDir(filepath.Join(k, "sessions")) && len(collectionDepth(k, depth-1)) > 0 {
			kids = append(kids, k)
		}
	}
	return kids
}

func (inv *Inventory) addStateDir(root, dir string) {
	ents, err := os.ReadDir(filepath.Join(dir, "agents"))
	if err != nil {
		inv.problem("%s: %w", dir, describeOpenErr(err))
		return
	}
	for _, e := range ents {
		if e.IsDir() {
			inv.addAgentDir(root, filepath.Join(dir, "agents", e.Name()), e.Name())
		}
	}
	// Hook dumps written by clawtrace's recorder plugin.
	if ms, _ := filepath.Glob(filepath.Join(dir, "clawtrace", "*.jsonl")); len(ms) > 0 {
		for _, m := range ms {
			if !inv.special(root, m) {
				inv.Hooks = append(inv.Hooks, FileRef{Path: m, Name: rel(root, m)})
			}
		}
	}
}

func (inv *Inventory) addAgentDir(root, dir, agent string) {
	db := filepath.Join(dir, "agent", "openclaw-agent.sqlite")
	if fileExists(db) && !inv.special(root, db) {
		inv.addDatabase(root, db, agent)
	}
	if sd := filepath.Join(dir, "sessions"); isDir(sd) {
		inv.addSessionsDir(root, sd, agent)
	}
}

func (inv *Inventory) addSessionsDir(root, dir, agent string) {
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			inv.problem("%s: %w", rel(root, p), describeOpenErr(err))
			if d != nil && d.IsDir() {
				return fs.SkipDir
			}
			return nil
		}
		if d.IsDir() {
			if p != dir && d.Name() != "cold" {
				return fs.SkipDir // skill prompts, exports and other nested folders
			}
			return nil
		}
		if !d.Type().IsRegular() && inv.special(root, p) {
			return nil
		}
		inv.addFile(root, p, agent, false)
		return nil
	})
	if err != nil {
		inv.problem("%s: %w", rel(root, dir), err)
	}
}

func (inv *Inventory) addDatabase(root, path, agent string) {
	inv.Databases = append(inv.Databases, FileRef{Path: path, Name: rel(root, path), AgentID: agent})
	ids, err := listDBSessions(path)
	if err != nil {
		inv.problem("%s: %w", rel(root, path), err)
		return
	}
	for _, id := range ids {
		inv.Transcripts = append(inv.Transcripts, TranscriptSource{
			Path: path, Name: rel(root, path) + "#" + id, AgentID: agent, SessionID: id, Copy: CopyLive, DB: true})
	}
}

// addFile classifies one file by name (and, for a bare .jsonl given on the
// command line, by its first line).
func (inv *Inventory) addFile(root, p, agent string, direct bool) {
	base := filepath.Base(p)
	name := rel(root, p)
	if agent == "" {
		agent = agentFromPath(p)
	}
	if agent == "" {
		agent = "unknown"
	}
	switch {
	case strings.HasSuffix(base, ".sqlite") || strings.HasSuffix(base, ".db"):
		inv.addDatabase(root, p, agent)
		return
	case base == "sessions.json":
		inv.Indexes = append(inv.Indexes, FileRef{Path: p, Name: name, AgentID: agent})
		return
	case strings.Contains(base, ".trajectory.jsonl") || base == "events.jsonl":
		sid, _, _ := strings.Cut(base, ".trajectory.jsonl")
		if base == "events.jsonl" {
			sid = ""
		}
		inv.Trajectories = append(inv.Trajectories, FileRef{Path: p, Name: name, AgentID: agent, SessionID: sid})
		return
	}
	sid, copyKind, ok := classifyTranscriptName(base)
	if !ok {
		return // not ours: .bak index copies, trajectory-path.json, markers, ...
	}
	if filepath.Base(filepath.Dir(p)) == "cold" {
		// Cold archives are named by content hash: the header names the
		// session. Read it now so the copy sorts next to its session.
		copyKind, sid = CopyCold, peekSessionID(p)
	}
	// A file named on the command line may be a hook dump or a trajectory
	// export rather than a transcript: look at its first line.
	if !direct && copyKind != CopyCold {
		inv.Transcripts = append(inv.Transcripts, TranscriptSource{Path: p, Name: name, AgentID: agent, SessionID: sid, Copy: copyKind})
		return
	}
	switch sniff(p) {
	case sniffHooks:
		inv.Hooks = append(inv.Hooks, FileRef{Path: p, Name: name})
		return
	case sniffTrajectory:
		inv.Trajectories = append(inv.Trajectories, FileRef{Path: p, Name: name, AgentID: agent})
		return
	case sniffTimeline:
		inv.Timelines = append(inv.Timelines, FileRef{Path: p, Name: name})
		return
	}
	inv.Transcripts = append(inv.Transcripts, TranscriptSource{Path: p, Name: name, AgentID: agent, SessionID: sid, Copy: copyKind})
}

// classifyTranscriptName maps a file name to a session id and copy kind.
// The session id is the part of the name before ".jsonl".
func classifyTranscriptName(base string) (sid string, kind CopyKind, ok bool) {
	i := strings.Index(base, ".jsonl")
	if i <= 0 {
		return "", 0, false
	}
	sid, rest := base[:i], base[i+len(".jsonl"):]
	kind = CopyLive
	switch {
	case rest == "" || rest == ".gz" || rest == ".zst":
	case strings.HasPrefix(rest, ".reset."):
		kind = CopyReset
	case strings.HasPrefix(rest, ".deleted."):
		kind = CopyDeleted
	case strings.HasPrefix(rest, ".bak"):
		kind = CopyBackup
	case strings.HasPrefix(rest, ".corrupt-"):
		kind = CopyCorrupt // 2026.7: <id>.jsonl.corrupt-<iso>-<hex>.jsonl
	default:
		return "", 0, false
	}
	if j := strings.Index(sid, ".checkpoint."); j > 0 {
		sid, kind = sid[:j], CopyCheckpoint
	} else if j := strings.Index(sid, ".corrupt-"); j > 0 {
		sid, kind = sid[:j], CopyCorrupt
	}
	return sid, kind, true
}

type sniffKind uint8

const (
	sniffTranscript sniffKind = iota
	sniffHooks
	sniffTrajectory
	sniffTimeline
)

// sniff reads the first non-blank line of a file.
func sniff(p string) sniffKind {
	rc, err := openMaybeCompressed(p)
	if err != nil {
		return sniffTranscript // the open error is reported when the file is read
	}
	defer rc.Close()
	return sniffReader(bufio.NewReaderSize(rc, 64<<10))
}

func sniffReader(br *bufio.Reader) sniffKind {
	for range 8 {
		line, err := br.ReadSlice('\n')
		line = bytes.TrimSpace(line)
		if len(line) > 0 {
			return sniffLine(line)
		}
		if err != nil {
			break
		}
	}
	return sniffTranscript
}

func sniffLine(line []byte) sniffKind {
	switch {
	case bytes.Contains(line, []byte(`"traceSchema"`)):
		return sniffTrajectory
	case bytes.Contains(line, []byte(`"schemaVersion"`)) && bytes.Contains(line, []byte(`"timestamp"`)) && bytes.Contains(line, []byte(`"name"`)):
		return sniffTimeline
	case bytes.Contains(line, []byte(`"hook":`)) && bytes.Contains(line, []byte(`"ts":`)):
		return sniffHooks
	}
	return sniffTranscript
}

func (inv *Inventory) sort() {
	slices.SortFunc(inv.Transcripts, func(a, b TranscriptSource) int {
		if c := strings.Compare(a.AgentID, b.AgentID); c != 0 {
			return c
		}
		if c := strings.Compare(a.SessionID, b.SessionID); c != 0 {
			return c
		}
		if a.DB != b.DB { // the database is the authoritative live copy
			if a.DB {
				return -1
			}
			return 1
		}
		if a.Copy != b.Copy {
			return int(a.Copy) - int(b.Copy)
		}
		return strings.Compare(a.Name, b.Name)
	})
	inv.Transcripts = slices.CompactFunc(inv.Transcripts, func(a, b TranscriptSource) bool {
		return a.Path == b.Path && a.SessionID == b.SessionID && a.DB == b.DB
	})
	for _, l := range []*[]FileRef{&inv.Indexes, &inv.Databases, &inv.Hooks, &inv.Trajectories, &inv.Timelines} {
		slices.SortFunc(*l, func(a, b FileRef) int { return strings.Compare(a.Path, b.Path) })
		*l = slices.CompactFunc(*l, func(a, b FileRef) bool { return a.Path == b.Path })
	}
}

// agentFromPath returns <id> from ".../agents/<id>/...", or "".
func agentFromPath(p string) string {
	parts := strings.Split(filepath.ToSlash(filepath.Clean(p)), "/")
	for i := len(parts) - 2; i >= 0; i-- {
		if parts[i] == "agents" && i+1 < len(parts) {
			return parts[i+1]
		}
	}
	return ""
}

func rel(root, p string) string {
	if r, err := filepath.Rel(root, p); err == nil && !strings.HasPrefix(r, "..") {
		return filepath.ToSlash(r)
	}
	return filepath.ToSlash(p)
}

// special reports, as a problem, a file found by discovery that is not a
// regular file or a link to one — a named pipe, socket or device — and
// says to leave it: opening a pipe blocks until something writes to it.
// This holds for a path named on the command line too (a stream is read
// from stdin, "-").
func (inv *Inventory) special(root, p string) bool {
	st, err := os.Stat(p)
	if err != nil || st.Mode().IsRegular() || st.IsDir() {
		return false // a dangling link is reported when it is read
	}
	kind := "a device"
	switch {
	case st.Mode()&fs.ModeNamedPipe != 0:
		kind = "a named pipe"
	case st.Mode()&fs.ModeSocket != 0:
		kind = "a socket"
	}
	inv.problem("%s: not a regular file (%s)", rel(root, p), kind)
	return true
}

func isDir(p string) bool {
	st, err := os.Stat(p)
	return err == nil && st.IsDir()
}

func fileExists(p string) bool {
	st, err := os.Stat(p)
	return err == nil && !st.IsDir()
}

func describeOpenErr(err error) error {
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return errors.New("no such file or directory")
	case errors.Is(err, fs.ErrPermission):
		return errors.New("permission denied")
	}
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}
