package plugin

import (
	"bytes"
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"
)

// ID is the plugin id: the manifest id, the directory name under
// <state>/extensions, and the key under plugins.entries in openclaw.json.
const ID = "clawtrace-hooks"

// Files is the plugin source tree, rooted at "clawtrace-hooks". It includes
// the plugin's own tests; Install copies only the runtime files.
//
//go:embed clawtrace-hooks
var Files embed.FS

// InstallOptions are written to plugins.entries.clawtrace-hooks.config. The
// zero value of a field leaves that config key as it is (absent keys mean the
// plugin's defaults: <state>/clawtrace/hooks.jsonl, no content, 64 MiB,
// 4096 characters, 50 messages).
type InstallOptions struct {
	// ConfigPath is the OpenClaw config file when it is not
	// <state>/openclaw.json ($OPENCLAW_CONFIG_PATH, see Locate).
	ConfigPath string
	// Path is the hook dump file. A relative path is taken from the state
	// directory by the plugin.
	Path string
	// Content, when non-nil, sets whether prompts, messages, tool parameters
	// and results are written (true) or replaced by their size (false).
	Content *bool
	// AllHooks, when non-nil, sets whether every OpenClaw hook is recorded
	// (true) or only those clawtrace reads (false, the plugin's default:
	// some hooks change OpenClaw's behaviour merely by having a handler).
	AllHooks *bool
	// MaxBytes, when > 0, is the size at which the dump is rotated to
	// <path>.1.
	MaxBytes int64
	// MaxStringChars, when > 0, is the length at which strings are cut.
	MaxStringChars int
	// MaxMessages, when > 0, caps messages and historyMessages arrays.
	MaxMessages int
}

// Result says what Install or Uninstall did. File lists are absolute paths in
// lexical order. A zero Result (apart from the paths) means nothing changed.
type Result struct {
	// PluginDir is <state>/extensions/clawtrace-hooks.
	PluginDir string
	// FilesWritten are plugin files created or replaced (Install).
	FilesWritten []string
	// FilesRemoved are plugin files deleted (Uninstall).
	FilesRemoved []string
	// ConfigPath is the OpenClaw config file that was (or should be) edited.
	ConfigPath string
	// ConfigChanged reports whether ConfigPath was written.
	ConfigChanged bool
	// Snippet is set when ConfigPath could not be edited safely (JSON5,
	// $include, unexpected shapes). Install: the JSON to merge into the
	// config by hand. Uninstall: the entry to delete by hand.
	Snippet string
	// DumpPath is where the plugin writes hook events unless
	// CLAWTRACE_HOOKS_FILE is set in OpenClaw's environment (Install only).
	DumpPath string
	// Notes are things the user should know, one sentence each.
	Notes []string
}

// Changed reports whether anything on disk was written or removed.
func (r Result) Changed() bool {
	return len(r.FilesWritten) > 0 || len(r.FilesRemoved) > 0 || r.ConfigChanged
}

// Install copies the plugin into <stateDir>/extensions/clawtrace-hooks and
// enables it, with conversation access, in <stateDir>/openclaw.json (created
// when missing, mode 0600). See the package doc for the rules. If the config
// cannot be rewritten, the plugin files are still installed, Result.Snippet
// holds what to add, and the error is nil. stateDir must exist.
func Install(stateDir string, opts InstallOptions) (Result, error) {
	stateDir, err := checkStateDir(stateDir)
	if err != nil {
		return Result{}, err
	}
	res := Result{PluginDir: pluginDir(stateDir), ConfigPath: configPath(stateDir)}
	if opts.ConfigPath != "" {
		res.ConfigPath = opts.ConfigPath
	}
	if err := installFiles(&res); err != nil {
		return res, err
	}
	dump, blocked, err := editConfig(&res, func(root *object) (bool, string, []string, error) {
		return enable(root, opts)
	})
	if err != nil {
		return res, err
	}
	if blocked != nil {
		res.Snippet = string(enableSnippet(opts))
		res.Notes = append(res.Notes,
			fmt.Sprintf("%s was not changed: %v; merge the snippet into it by hand", res.ConfigPath, blocked),
			fmt.Sprintf("if %s sets plugins.allow, add %q to it", res.ConfigPath, ID))
		dump = opts.Path
	}
	res.DumpPath = dumpPath(stateDir, dump)
	return res, nil
}

// Uninstall removes the plugin files from <stateDir>/extensions and the
// plugin's entry from openclaw.json. Hook dumps are kept. Running it when
// nothing is installed (or stateDir does not exist) does nothing.
func Uninstall(stateDir string) (Result, error) { return UninstallConfig(stateDir, "") }

// UninstallConfig is Uninstall with the config file named explicitly
// ($OPENCLAW_CONFIG_PATH); "" means <stateDir>/openclaw.json.
func UninstallConfig(stateDir, config string) (Result, error) {
	if stateDir == "" {
		return Result{}, errors.New("uninstall: no state directory given")
	}
	stateDir, err := filepath.Abs(stateDir)
	if err != nil {
		return Result{}, fmt.Errorf("uninstall: %w", err)
	}
	res := Result{PluginDir: pluginDir(stateDir), ConfigPath: configPath(stateDir)}
	if config != "" {
		res.ConfigPath = config
	}
	if !isDir(stateDir) {
		res.Notes = append(res.Notes, fmt.Sprintf("%s does not exist: nothing to uninstall", stateDir))
		return res, nil
	}
	if err := removeFiles(&res); err != nil {
		return res, err
	}
	// A config that does not mention the plugin has nothing to remove, even
	// if it is JSON5.
	data, err := os.ReadFile(res.ConfigPath)
	if errors.Is(err, fs.ErrNotExist) || (err == nil && !bytes.Contains(data, []byte(ID))) {
		return res, nil
	}
	_, blocked, err := editConfig(&res, disable)
	if err != nil {
		return res, err
	}
	if blocked != nil {
		res.Snippet = fmt.Sprintf("plugins.entries[%q], and %q in plugins.allow if it is listed there", ID, ID)
		res.Notes = append(res.Notes, fmt.Sprintf("%s was not changed: %v; remove the snippet from it by hand", res.ConfigPath, blocked))
	}
	return res, nil
}

func checkStateDir(stateDir string) (string, error) {
	if stateDir == "" {
		return "", errors.New("install: no state directory given")
	}
	abs, err := filepath.Abs(stateDir)
	if err != nil {
		return "", fmt.Errorf("install: %w", err)
	}
	st, err := os.Stat(abs)
	if err != nil {
		return "", fmt.Errorf("install: state directory %s: %w", abs, err)
	}
	if !st.IsDir() {
		return "", fmt.Errorf("install: state directory %s: not a directory", abs)
	}
	return abs, nil
}

// pluginDir is where OpenClaw's global plugin discovery looks: the
// "extensions" folder of its config directory ($OPENCLAW_STATE_DIR, or the
// folder of $OPENCLAW_CONFIG_PATH, or ~/.openclaw).
func pluginDir(stateDir string) string {
	return filepath.Join(stateDir, "extensions", ID)
}

// configPath is <state>/openclaw.json, or the legacy clawdbot.json when only
// that one exists (OpenClaw reads the first that exists, in that order).
func configPath(stateDir string) string {
	p := filepath.Join(stateDir, "openclaw.json")
	legacy := filepath.Join(stateDir, "clawdbot.json")
	if !fileExists(p) && fileExists(legacy) {
		return legacy
	}
	return p
}

// runtimeFiles lists the embedded files that OpenClaw needs, relative to
// the plugin root: everything except tests.
func runtimeFiles() ([]string, error) {
	var names []string
	err := fs.WalkDir(Files, ID, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel := strings.TrimPrefix(p, ID+"/")
		if d.IsDir() {
			if d.Name() == "test" || d.Name() == "node_modules" {
				return fs.SkipDir
			}
			return nil
		}
		if strings.HasSuffix(d.Name(), ".test.js") {
			return nil
		}
		names = append(names, rel)
		return nil
	})
	slices.Sort(names)
	return names, err
}

func installFiles(res *Result) error {
	names, err := runtimeFiles()
	if err != nil {
		return fmt.Errorf("install: reading embedded plugin: %w", err)
	}
	if err := os.MkdirAll(res.PluginDir, 0o755); err != nil {
		return fmt.Errorf("install: %w", err)
	}
	// OpenClaw refuses plugin directories that are world-writable.
	if st, err := os.Stat(res.PluginDir); err == nil && st.Mode().Perm()&0o002 != 0 {
		if err := os.Chmod(res.PluginDir, 0o755); err != nil {
			return fmt.Errorf("install: %w", err)
		}
	}
	for _, name := range names {
		data, err := Files.ReadFile(path.Join(ID, name))
		if err != nil {
			return fmt.Errorf("install: reading embedded %s: %w", name, err)
		}
		target := filepath.Join(res.PluginDir, filepath.FromSlash(name))
		if cur, err := os.ReadFile(target); err == nil && bytes.Equal(cur, data) {
			continue
		}
		if err := os.MkdirAll(filepath.Dir(target), 0o755); err != nil {
			return fmt.Errorf("install: %w", err)
		}
		if err := writeFileAtomic(target, data, 0o644); err != nil {
			return fmt.Errorf("install: %w", err)
		}
		res.FilesWritten = append(res.FilesWritten, target)
	}
	if ext := filepath.Dir(res.PluginDir); isWorldWritable(ext) {
		res.Notes = append(res.Notes, fmt.Sprintf("%s is world-writable; OpenClaw refuses to load plugins from it until it is not (chmod o-w)", ext))
	}
	return nil
}

func removeFiles(res *Result) error {
	names, err := runtimeFiles()
	if err != nil {
		return fmt.Errorf("uninstall: reading embedded plugin: %w", err)
	}
	for _, name := range names {
		target := filepath.Join(res.PluginDir, filepath.FromSlash(name))
		err := os.Remove(target)
		switch {
		case err == nil:
			res.FilesRemoved = append(res.FilesRemoved, target)
		case errors.Is(err, fs.ErrNotExist):
		default:
			return fmt.Errorf("uninstall: %w", err)
		}
	}
	err = os.Remove(res.PluginDir)
	switch {
	case err == nil, errors.Is(err, fs.ErrNotExist):
	case isDir(res.PluginDir):
		res.Notes = append(res.Notes, fmt.Sprintf("%s was kept: it holds files clawtrace did not write", res.PluginDir))
	default:
		return fmt.Errorf("uninstall: %w", err)
	}
	return nil
}

// editConfig applies edit to the config file and writes it if edit changed
// it. edit reports whether it changed the tree, the configured dump path,
// and notes. blocked is non-nil when the file was left alone on purpose: it
// is not plain JSON, or edit refused it. A missing config file is created.
func editConfig(res *Result, edit func(*object) (bool, string, []string, error)) (dump string, blocked, err error) {
	data, err := os.ReadFile(res.ConfigPath)
	exists := err == nil
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return "", nil, fmt.Errorf("reading config: %w", err)
	}
	root := &object{}
	if exists && len(bytes.TrimSpace(data)) > 0 { // an empty file is an empty config
		if root, blocked = parseObject(data); blocked != nil {
			blocked = fmt.Errorf("it is not plain JSON (JSON5 comments, trailing commas or unquoted keys?): %w", blocked)
		}
	}
	var changed bool
	var notes []string
	if blocked == nil {
		changed, dump, notes, blocked = edit(root)
	}
	res.Notes = append(res.Notes, notes...)
	if blocked != nil {
		return "", blocked, nil
	}
	if !changed {
		return dump, nil, nil
	}
	indent, mode, target := "  ", fs.FileMode(0o600), res.ConfigPath
	if exists {
		indent = detectIndent(data)
		// Write through a symlink to its target, keeping the target's mode.
		if t, err := filepath.EvalSymlinks(res.ConfigPath); err == nil {
			target = t
		}
		if st, err := os.Stat(target); err == nil {
			mode = st.Mode().Perm()
		}
	}
	out, err := root.format(indent)
	if err != nil {
		return "", nil, fmt.Errorf("formatting config: %w", err)
	}
	if err := writeFileAtomic(target, out, mode); err != nil {
		return "", nil, fmt.Errorf("writing config: %w", err)
	}
	res.ConfigChanged = true
	return dump, nil, nil
}

var errInclude = errors.New(`it uses "$include"`)

// enable sets plugins.entries.clawtrace-hooks.{enabled, hooks.allowConversationAccess,
// config.*} and adds the id to a non-empty plugins.allow. It returns the
// configured dump path (config.path) and notes about settings that still keep
// the plugin from loading.
func enable(root *object, opts InstallOptions) (changed bool, dump string, notes []string, err error) {
	if _, ok := root.get("$include"); ok {
		return false, "", nil, errInclude
	}
	plugins, _, err := root.child("plugins")
	if err != nil {
		return false, "", nil, err
	}
	if _, ok := plugins.get("$include"); ok {
		return false, "", nil, errInclude
	}
	if raw, ok := plugins.get("enabled"); ok && jsonEqual(raw, marshal(false)) {
		notes = append(notes, "plugins.enabled is false: OpenClaw loads no plugins until it is true")
	}
	if deny, _ := stringList(plugins, "deny"); slices.Contains(deny, ID) {
		notes = append(notes, fmt.Sprintf("plugins.deny lists %q: remove it there or the plugin stays off", ID))
	}
	allow, err := stringList(plugins, "allow")
	if err != nil {
		return false, "", nil, err
	}
	if len(allow) > 0 && !slices.Contains(allow, ID) {
		// A non-empty allowlist blocks every plugin not in it. Never create
		// one: an empty list means "no allowlist".
		changed = plugins.set("allow", append(allow, ID)) || changed
	}

	entries, _, err := plugins.child("entries")
	if err != nil {
		return false, "", nil, err
	}
	entry, _, err := entries.child(ID)
	if err != nil {
		return false, "", nil, err
	}
	entryChanged := entry.set("enabled", true)
	hooks, _, err := entry.child("hooks")
	if err != nil {
		return false, "", nil, err
	}
	if hooks.set("allowConversationAccess", true) {
		entry.setRaw("hooks", hooks.raw())
		entryChanged = true
	}
	cfg, _, err := entry.child("config")
	if err != nil {
		return false, "", nil, err
	}
	if applyOptions(cfg, opts) {
		entry.setRaw("config", cfg.raw())
		entryChanged = true
	}
	if raw, ok := cfg.get("path"); ok {
		_ = json.Unmarshal(raw, &dump)
	}
	if entryChanged {
		entries.setRaw(ID, entry.raw())
		plugins.setRaw("entries", entries.raw())
		changed = true
	}
	if changed {
		root.setRaw("plugins", plugins.raw())
	}
	return changed, dump, notes, nil
}

// applyOptions writes the non-zero options into the plugin config object.
func applyOptions(cfg *object, opts InstallOptions) bool {
	changed := false
	if opts.Path != "" {
		changed = cfg.set("path", opts.Path) || changed
	}
	if opts.Content != nil {
		changed = cfg.set("content", *opts.Content) || changed
	}
	if opts.AllHooks != nil {
		changed = cfg.set("allHooks", *opts.AllHooks) || changed
	}
	if opts.MaxBytes > 0 {
		changed = cfg.set("maxBytes", opts.MaxBytes) || changed
	}
	if opts.MaxStringChars > 0 {
		changed = cfg.set("maxStringChars", opts.MaxStringChars) || changed
	}
	if opts.MaxMessages > 0 {
		changed = cfg.set("maxMessages", opts.MaxMessages) || changed
	}
	return changed
}

// disable removes plugins.entries.clawtrace-hooks, drops "entries" and
// "plugins" if that leaves them empty, and removes the id from
// plugins.allow unless it is the only entry there.
func disable(root *object) (changed bool, _ string, notes []string, err error) {
	if _, ok := root.get("$include"); ok {
		return false, "", nil, errInclude
	}
	plugins, present, err := root.child("plugins")
	if err != nil || !present {
		return false, "", nil, err
	}
	if _, ok := plugins.get("$include"); ok {
		return false, "", nil, errInclude
	}
	entries, present, err := plugins.child("entries")
	if err != nil {
		return false, "", nil, err
	}
	if present && entries.delete(ID) {
		if len(entries.members) == 0 {
			plugins.delete("entries")
		} else {
			plugins.setRaw("entries", entries.raw())
		}
		changed = true
	}
	allow, err := stringList(plugins, "allow")
	if err != nil {
		return false, "", nil, err
	}
	if i := slices.Index(allow, ID); i >= 0 {
		if len(allow) == 1 {
			// An empty allowlist would let every discovered plugin load.
			notes = append(notes, fmt.Sprintf("plugins.allow still lists %q: it is the only entry, and an empty list would allow every plugin", ID))
		} else {
			plugins.set("allow", slices.Delete(allow, i, i+1))
			changed = true
		}
	}
	if changed {
		if len(plugins.members) == 0 {
			root.delete("plugins")
		} else {
			root.setRaw("plugins", plugins.raw())
		}
	}
	return changed, "", notes, nil
}

// stringList decodes o[key] as a list of strings; absent is nil.
func stringList(o *object, key string) ([]string, error) {
	raw, ok := o.get(key)
	if !ok || bytes.Equal(bytes.TrimSpace(raw), []byte("null")) {
		return nil, nil
	}
	var list []string
	if err := json.Unmarshal(raw, &list); err != nil {
		return nil, fmt.Errorf("plugins.%s is not a list of strings", key)
	}
	return list, nil
}

// enableSnippet is the config fragment Install would have merged.
func enableSnippet(opts InstallOptions) []byte {
	entry := &object{}
	entry.set("enabled", true)
	hooks := &object{}
	hooks.set("allowConversationAccess", true)
	entry.setRaw("hooks", hooks.raw())
	cfg := &object{}
	if applyOptions(cfg, opts) {
		entry.setRaw("config", cfg.raw())
	}
	entries := &object{}
	entries.setRaw(ID, entry.raw())
	plugins := &object{}
	plugins.setRaw("entries", entries.raw())
	root := &object{}
	root.setRaw("plugins", plugins.raw())
	out, err := root.format("  ")
	if err != nil {
		panic("invariant violation: snippet: " + err.Error())
	}
	return out
}

// dumpPath resolves the plugin's output path the way the plugin does
// (without CLAWTRACE_HOOKS_FILE, which is OpenClaw's environment, not ours).
func dumpPath(stateDir, p string) string {
	if p == "" {
		return filepath.Join(stateDir, "clawtrace", "hooks.jsonl")
	}
	if p == "~" || strings.HasPrefix(p, "~/") {
		if home, err := os.UserHomeDir(); err == nil {
			p = filepath.Join(home, strings.TrimPrefix(p[1:], "/"))
		}
	}
	if !filepath.IsAbs(p) {
		p = filepath.Join(stateDir, p)
	}
	return filepath.Clean(p)
}

// writeFileAtomic writes data to a temporary file next to name and renames
// it over name, so readers see the old or the new file, never a partial one.
func writeFileAtomic(name string, data []byte, perm fs.FileMode) (err error) {
	f, err := os.CreateTemp(filepath.Dir(name), "."+filepath.Base(name)+".tmp-*")
	if err != nil {
		return err
	}
	tmp := f.Name()
	defer func() {
		if err != nil {
			_ = os.Remove(tmp)
		}
	}()
	if _, err = f.Write(data); err != nil {
		_ = f.Close()
		return err
	}
	if err = f.Sync(); err != nil {
		_ = f.Close()
		return err
	}
	if err = f.Close(); err != nil {
		return err
	}
	if err = os.Chmod(tmp, perm); err != nil {
		return err
	}
	return os.Rename(tmp, name)
}

func isDir(p string) bool {
	st, err := os.Stat(p)
	return err == nil && st.IsDir()
}

func fileExists(p string) bool {
	st, err := os.Stat(p)
	return err == nil && !st.IsDir()
}

func isWorldWritable(p string) bool {
	st, err := os.Stat(p)
	return err == nil && st.Mode().Perm()&0o002 != 0
}

// Locate returns where OpenClaw looks for plugins and its config, as
// OpenClaw resolves them: $OPENCLAW_STATE_DIR; else the folder of
// $OPENCLAW_CONFIG_PATH (which is then the config file); else ~/.openclaw
// (under $OPENCLAW_HOME when set). OpenClaw does not fall back to the
// legacy ~/.clawdbot for plugins. config is "" unless named by
// $OPENCLAW_CONFIG_PATH.
func Locate() (stateDir, config string) {
	if d := os.Getenv("OPENCLAW_STATE_DIR"); d != "" {
		return d, ""
	}
	if c := os.Getenv("OPENCLAW_CONFIG_PATH"); c != "" {
		return filepath.Dir(c), c
	}
	home := os.Getenv("OPENCLAW_HOME")
	if home == "" {
		home, _ = os.UserHomeDir()
	}
	return filepath.Join(home, ".openclaw"), ""
}
