package plugin

import (
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

// writeState makes a state directory holding openclaw.json = config (no
// file when config is "").
func writeState(t *testing.T, config string) string {
	t.Helper()
	dir := t.TempDir()
	if config != "" {
		if err := os.WriteFile(filepath.Join(dir, "openclaw.json"), []byte(config), 0o640); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func readConfig(t *testing.T, dir string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, "openclaw.json"))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// snapshot records every file under dir with its mtime and contents.
func snapshot(t *testing.T, dir string) map[string]string {
	t.Helper()
	m := make(map[string]string)
	err := filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		st, err := d.Info()
		if err != nil {
			return err
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		m[p] = st.ModTime().Format(time.RFC3339Nano) + "\x00" + string(b)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func boolPtr(b bool) *bool { return &b }

const entryJSON = `"clawtrace-hooks": {
        "enabled": true,
        "hooks": {
          "allowConversationAccess": true
        }
      }`

func TestInstall(t *testing.T) {
	tests := []struct {
		name        string
		config      string // initial openclaw.json; "" = none
		opts        InstallOptions
		want        string // openclaw.json after; "" = unchanged
		wantSnippet bool
		wantNote    string // substring of one note
	}{
		{
			name: "no config file",
			want: "{\n  \"plugins\": {\n    \"entries\": {\n      " + entryJSON + "\n    }\n  }\n}\n",
		},
		{
			name:   "empty config file",
			config: " \n",
			want:   "{\n  \"plugins\": {\n    \"entries\": {\n      " + entryJSON + "\n    }\n  }\n}\n",
		},
		{
			name: "other keys, order and literals preserved",
			config: `{
  "meta": {"lastTouchedVersion": "2026.9.6"},
  "agents": {"defaults": {"workspace": "$WORKSPACE", "note": "caf\u00e9 <b>"}},
  "models": {"providers": {"mock": {"cost": {"input": 1.250, "big": 12345678901234567890}}}},
  "plugins": {
    "load": {"paths": ["/lab/other"]},
    "entries": {"other": {"enabled": false}}
  },
  "gateway": {"mode": "local"}
}`,
			want: `{
  "meta": {
    "lastTouchedVersion": "2026.9.6"
  },
  "agents": {
    "defaults": {
      "workspace": "$WORKSPACE",
      "note": "caf\u00e9 <b>"
    }
  },
  "models": {
    "providers": {
      "mock": {
        "cost": {
          "input": 1.250,
          "big": 12345678901234567890
        }
      }
    }
  },
  "plugins": {
    "load": {
      "paths": [
        "/lab/other"
      ]
    },
    "entries": {
      "other": {
        "enabled": false
      },
      ` + entryJSON + `
    }
  },
  "gateway": {
    "mode": "local"
  }
}
`,
		},
		{
			name:   "existing entry keeps its other settings",
			config: `{"plugins":{"entries":{"clawtrace-hooks":{"enabled":false,"config":{"skipHooks":["x"]},"hooks":{"allowPromptInjection":false}}}}}`,
			opts:   InstallOptions{Content: boolPtr(true), MaxBytes: 1 << 20},
			want: `{
  "plugins": {
    "entries": {
      "clawtrace-hooks": {
        "enabled": true,
        "config": {
          "skipHooks": [
            "x"
          ],
          "content": true,
          "maxBytes": 1048576
        },
        "hooks": {
          "allowPromptInjection": false,
          "allowConversationAccess": true
        }
      }
    }
  }
}
`,
		},
		{
			name:   "four-space indent kept",
			config: "{\n    \"gateway\": {\n        \"mode\": \"local\"\n    }\n}\n",
			opts:   InstallOptions{Path: "dumps/h.jsonl", MaxStringChars: 100, MaxMessages: 10},
			want: `{
    "gateway": {
        "mode": "local"
    },
    "plugins": {
        "entries": {
            "clawtrace-hooks": {
                "enabled": true,
                "hooks": {
                    "allowConversationAccess": true
                },
                "config": {
                    "path": "dumps/h.jsonl",
                    "maxStringChars": 100,
                    "maxMessages": 10
                }
            }
        }
    }
}
`,
		},
		{
			name:   "non-empty allowlist gets the id",
			config: `{"plugins":{"allow":["voice-call"]}}`,
			want:   "{\n  \"plugins\": {\n    \"allow\": [\n      \"voice-call\",\n      \"clawtrace-hooks\"\n    ],\n    \"entries\": {\n      " + entryJSON + "\n    }\n  }\n}\n",
		},
		{
			name:   "empty allowlist stays empty",
			config: `{"plugins":{"allow":[]}}`,
			want:   "{\n  \"plugins\": {\n    \"allow\": [],\n    \"entries\": {\n      " + entryJSON + "\n    }\n  }\n}\n",
		},
		{
			name:     "plugins disabled is reported, not changed",
			config:   `{"plugins":{"enabled":false}}`,
			want:     "{\n  \"plugins\": {\n    \"enabled\": false,\n    \"entries\": {\n      " + entryJSON + "\n    }\n  }\n}\n",
			wantNote: "plugins.enabled is false",
		},
		{
			name:     "denylist is reported",
			config:   `{"plugins":{"deny":["clawtrace-hooks"]}}`,
			want:     "{\n  \"plugins\": {\n    \"deny\": [\n      \"clawtrace-hooks\"\n    ],\n    \"entries\": {\n      " + entryJSON + "\n    }\n  }\n}\n",
			wantNote: "plugins.deny",
		},
		{
			name:        "JSON5 comments: snippet",
			config:      "{\n  // my gateway\n  gateway: { mode: 'local', },\n}\n",
			wantSnippet: true,
			wantNote:    "not plain JSON",
		},
		{
			name:        "$include: snippet",
			config:      `{"$include": "./base.json5", "plugins": {}}`,
			wantSnippet: true,
			wantNote:    "$include",
		},
		{
			name:        "plugins is not an object: snippet",
			config:      `{"plugins": []}`,
			wantSnippet: true,
		},
		{
			name:        "duplicate keys: snippet",
			config:      `{"plugins": {}, "plugins": {}}`,
			wantSnippet: true,
		},
		{
			name:        "not an object: snippet",
			config:      `[1]`,
			wantSnippet: true,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := writeState(t, tt.config)
			res, err := Install(dir, tt.opts)
			if err != nil {
				t.Fatalf("Install: %v", err)
			}
			if got, want := len(res.FilesWritten), 3; got != want {
				t.Errorf("FilesWritten = %v, want %d files", res.FilesWritten, want)
			}
			for _, f := range []string{"index.js", "package.json", "openclaw.plugin.json"} {
				if _, err := os.Stat(filepath.Join(dir, "extensions", ID, f)); err != nil {
					t.Errorf("plugin file: %v", err)
				}
			}
			if _, err := os.Stat(filepath.Join(dir, "extensions", ID, "test")); err == nil {
				t.Errorf("tests were installed")
			}
			if tt.wantNote != "" && !slices.ContainsFunc(res.Notes, func(n string) bool { return strings.Contains(n, tt.wantNote) }) {
				t.Errorf("Notes = %q, want one containing %q", res.Notes, tt.wantNote)
			}
			got := readConfig(t, dir)
			switch {
			case tt.wantSnippet:
				if res.Snippet == "" || res.ConfigChanged {
					t.Errorf("Snippet = %q, ConfigChanged = %v; want a snippet and no change", res.Snippet, res.ConfigChanged)
				}
				if got != tt.config {
					t.Errorf("config changed:\n%s", got)
				}
				var v map[string]any
				if err := json.Unmarshal([]byte(res.Snippet), &v); err != nil {
					t.Errorf("snippet is not JSON: %v\n%s", err, res.Snippet)
				}
				if !strings.Contains(res.Snippet, `"allowConversationAccess": true`) {
					t.Errorf("snippet lacks conversation access:\n%s", res.Snippet)
				}
			default:
				if res.Snippet != "" || !res.ConfigChanged {
					t.Errorf("Snippet = %q, ConfigChanged = %v", res.Snippet, res.ConfigChanged)
				}
				if got != tt.want {
					t.Errorf("config =\n%s\nwant\n%s", got, tt.want)
				}
			}

			// Second run: nothing written, nothing reported as done.
			before := snapshot(t, dir)
			res2, err := Install(dir, tt.opts)
			if err != nil {
				t.Fatalf("second Install: %v", err)
			}
			if res2.Changed() {
				t.Errorf("second Install changed something: %+v", res2)
			}
			if after := snapshot(t, dir); !mapsEqual(before, after) {
				t.Errorf("second Install touched files")
			}
		})
	}
}

func mapsEqual(a, b map[string]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}

func TestInstallResult(t *testing.T) {
	dir := writeState(t, "")
	res, err := Install(dir, InstallOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if want := filepath.Join(dir, "extensions", ID); res.PluginDir != want {
		t.Errorf("PluginDir = %s, want %s", res.PluginDir, want)
	}
	if want := filepath.Join(dir, "openclaw.json"); res.ConfigPath != want {
		t.Errorf("ConfigPath = %s, want %s", res.ConfigPath, want)
	}
	if want := filepath.Join(dir, "clawtrace", "hooks.jsonl"); res.DumpPath != want {
		t.Errorf("DumpPath = %s, want %s", res.DumpPath, want)
	}
	st, err := os.Stat(res.ConfigPath)
	if err != nil {
		t.Fatal(err)
	}
	if st.Mode().Perm() != 0o600 {
		t.Errorf("new config mode = %v, want 0600", st.Mode().Perm())
	}
	if !slices.IsSorted(res.FilesWritten) {
		t.Errorf("FilesWritten not sorted: %v", res.FilesWritten)
	}
	// The installed files are the embedded ones, byte for byte.
	for _, name := range []string{"index.js", "openclaw.plugin.json", "package.json"} {
		want, _ := Files.ReadFile(ID + "/" + name)
		got, err := os.ReadFile(filepath.Join(res.PluginDir, name))
		if err != nil || string(got) != string(want) {
			t.Errorf("%s differs from the embedded file (err %v)", name, err)
		}
	}

	// A configured path is reported; an existing config keeps its mode.
	dir = writeState(t, `{"plugins":{"entries":{"clawtrace-hooks":{"config":{"path":"x/h.jsonl"}}}}}`)
	res, err = Install(dir, InstallOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if want := filepath.Join(dir, "x", "h.jsonl"); res.DumpPath != want {
		t.Errorf("DumpPath = %s, want %s", res.DumpPath, want)
	}
	if st, _ := os.Stat(res.ConfigPath); st.Mode().Perm() != 0o640 {
		t.Errorf("config mode = %v, want 0640 kept", st.Mode().Perm())
	}

	// A changed plugin file is restored, the others are left alone.
	idx := filepath.Join(res.PluginDir, "index.js")
	if err := os.WriteFile(idx, []byte("// stale\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	res, err = Install(dir, InstallOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(res.FilesWritten, []string{idx}) || res.ConfigChanged {
		t.Errorf("reinstall over a stale file: %+v", res)
	}
}

func TestInstallErrors(t *testing.T) {
	if _, err := Install("", InstallOptions{}); err == nil {
		t.Error("empty state dir: no error")
	}
	if _, err := Install(filepath.Join(t.TempDir(), "missing"), InstallOptions{}); err == nil {
		t.Error("missing state dir: no error")
	}
	f := filepath.Join(t.TempDir(), "file")
	if err := os.WriteFile(f, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := Install(f, InstallOptions{}); err == nil {
		t.Error("state dir is a file: no error")
	}
}

func TestInstallSymlinkedConfig(t *testing.T) {
	dir := t.TempDir()
	real := filepath.Join(t.TempDir(), "real.json")
	if err := os.WriteFile(real, []byte(`{"gateway":{"mode":"local"}}`), 0o600); err != nil {
		t.Fatal(err)
	}
	link := filepath.Join(dir, "openclaw.json")
	if err := os.Symlink(real, link); err != nil {
		t.Skip("symlinks unavailable:", err)
	}
	if _, err := Install(dir, InstallOptions{}); err != nil {
		t.Fatal(err)
	}
	if st, err := os.Lstat(link); err != nil || st.Mode()&os.ModeSymlink == 0 {
		t.Errorf("config symlink replaced by a file")
	}
	b, _ := os.ReadFile(real)
	if !strings.Contains(string(b), `"clawtrace-hooks"`) {
		t.Errorf("symlink target not updated:\n%s", b)
	}
}

func TestInstallLegacyConfigName(t *testing.T) {
	dir := t.TempDir()
	legacy := filepath.Join(dir, "clawdbot.json")
	if err := os.WriteFile(legacy, []byte(`{}`), 0o600); err != nil {
		t.Fatal(err)
	}
	res, err := Install(dir, InstallOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if res.ConfigPath != legacy || !res.ConfigChanged {
		t.Errorf("ConfigPath = %s, ConfigChanged = %v; want %s changed", res.ConfigPath, res.ConfigChanged, legacy)
	}
	if _, err := os.Stat(filepath.Join(dir, "openclaw.json")); err == nil {
		t.Errorf("openclaw.json created next to clawdbot.json")
	}
}

func TestUninstall(t *testing.T) {
	tests := []struct {
		name        string
		config      string // before Install; "" = none
		install     bool
		edit        func(t *testing.T, dir string) // after Install
		want        string                         // config after Uninstall; "" = no file
		wantSnippet bool
		wantNote    string
	}{
		{
			name:    "installed with no prior config",
			install: true,
			want:    "{}\n",
		},
		{
			name:    "other keys preserved",
			config:  `{"gateway":{"mode":"local"},"plugins":{"entries":{"other":{"enabled":true}},"load":{"paths":["/p"]}}}`,
			install: true,
			want: `{
  "gateway": {
    "mode": "local"
  },
  "plugins": {
    "entries": {
      "other": {
        "enabled": true
      }
    },
    "load": {
      "paths": [
        "/p"
      ]
    }
  }
}
`,
		},
		{
			name:    "removed from a longer allowlist",
			config:  `{"plugins":{"allow":["a"]}}`,
			install: true,
			want:    "{\n  \"plugins\": {\n    \"allow\": [\n      \"a\"\n    ]\n  }\n}\n",
		},
		{
			name:     "sole allowlist entry kept",
			config:   `{"plugins":{"allow":["clawtrace-hooks"],"entries":{"clawtrace-hooks":{"enabled":true}}}}`,
			want:     "{\n  \"plugins\": {\n    \"allow\": [\n      \"clawtrace-hooks\"\n    ]\n  }\n}\n",
			wantNote: "only entry",
		},
		{
			name:    "extra user file keeps the plugin directory",
			install: true,
			edit: func(t *testing.T, dir string) {
				if err := os.WriteFile(filepath.Join(dir, "extensions", ID, "mine.txt"), nil, 0o644); err != nil {
					t.Fatal(err)
				}
			},
			want:     "{}\n",
			wantNote: "was kept",
		},
		{
			name:   "JSON5 config without the plugin: nothing to do",
			config: "{ gateway: { mode: 'local' } }",
			want:   "{ gateway: { mode: 'local' } }",
		},
		{
			name:        "JSON5 config with the plugin: snippet",
			config:      "{ plugins: { entries: { 'clawtrace-hooks': { enabled: true } } } }",
			want:        "{ plugins: { entries: { 'clawtrace-hooks': { enabled: true } } } }",
			wantSnippet: true,
		},
		{
			name: "nothing installed, no config",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := writeState(t, tt.config)
			dumps := filepath.Join(dir, "clawtrace", "hooks.jsonl")
			if err := os.MkdirAll(filepath.Dir(dumps), 0o700); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(dumps, []byte("{}\n"), 0o600); err != nil {
				t.Fatal(err)
			}
			if tt.install {
				if _, err := Install(dir, InstallOptions{}); err != nil {
					t.Fatal(err)
				}
			}
			if tt.edit != nil {
				tt.edit(t, dir)
			}
			res, err := Uninstall(dir)
			if err != nil {
				t.Fatalf("Uninstall: %v", err)
			}
			if tt.install && len(res.FilesRemoved) != 3 {
				t.Errorf("FilesRemoved = %v, want 3 files", res.FilesRemoved)
			}
			for _, f := range []string{"index.js", "package.json", "openclaw.plugin.json"} {
				if _, err := os.Stat(filepath.Join(dir, "extensions", ID, f)); err == nil {
					t.Errorf("%s still installed", f)
				}
			}
			if tt.wantNote == "" && isDir(filepath.Join(dir, "extensions", ID)) {
				t.Errorf("plugin directory left behind")
			}
			if tt.wantNote != "" && !slices.ContainsFunc(res.Notes, func(n string) bool { return strings.Contains(n, tt.wantNote) }) {
				t.Errorf("Notes = %q, want one containing %q", res.Notes, tt.wantNote)
			}
			if (res.Snippet != "") != tt.wantSnippet {
				t.Errorf("Snippet = %q, want snippet: %v", res.Snippet, tt.wantSnippet)
			}
			if tt.want == "" {
				if _, err := os.Stat(filepath.Join(dir, "openclaw.json")); err == nil {
					t.Errorf("config created by Uninstall")
				}
			} else if got := readConfig(t, dir); got != tt.want {
				t.Errorf("config =\n%s\nwant\n%s", got, tt.want)
			}
			if _, err := os.Stat(dumps); err != nil {
				t.Errorf("hook dump removed: %v", err)
			}

			before := snapshot(t, dir)
			res2, err := Uninstall(dir)
			if err != nil {
				t.Fatalf("second Uninstall: %v", err)
			}
			if res2.Changed() {
				t.Errorf("second Uninstall changed something: %+v", res2)
			}
			if after := snapshot(t, dir); !mapsEqual(before, after) {
				t.Errorf("second Uninstall touched files")
			}
		})
	}
}

func TestUninstallMissingStateDir(t *testing.T) {
	res, err := Uninstall(filepath.Join(t.TempDir(), "missing"))
	if err != nil || res.Changed() || len(res.Notes) != 1 {
		t.Errorf("Uninstall(missing) = %+v, %v", res, err)
	}
	if _, err := Uninstall(""); err == nil {
		t.Error("empty state dir: no error")
	}
}

func TestRuntimeFiles(t *testing.T) {
	got, err := runtimeFiles()
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"index.js", "openclaw.plugin.json", "package.json"}
	if !slices.Equal(got, want) {
		t.Errorf("runtimeFiles = %v, want %v", got, want)
	}
	// The manifest id is the id Install writes into the config.
	var manifest struct {
		ID           string         `json:"id"`
		ConfigSchema map[string]any `json:"configSchema"`
	}
	b, _ := Files.ReadFile(ID + "/openclaw.plugin.json")
	if err := json.Unmarshal(b, &manifest); err != nil || manifest.ID != ID || manifest.ConfigSchema == nil {
		t.Errorf("manifest: id %q, schema %v, err %v", manifest.ID, manifest.ConfigSchema != nil, err)
	}
	// Every option Install can write is declared in the schema, which
	// OpenClaw validates with additionalProperties: false.
	props, _ := manifest.ConfigSchema["properties"].(map[string]any)
	cfg := &object{}
	applyOptions(cfg, InstallOptions{Path: "p", Content: boolPtr(true), MaxBytes: 1, MaxStringChars: 1, MaxMessages: 1})
	for _, m := range cfg.members {
		if _, ok := props[m.key]; !ok {
			t.Errorf("option %q is not in the manifest configSchema", m.key)
		}
	}
}

func TestDetectIndent(t *testing.T) {
	for _, tt := range []struct{ in, want string }{
		{"{\n  \"a\": 1\n}", "  "},
		{"{\n    \"a\": 1\n}", "    "},
		{"{\n\t\"a\": 1\n}", "\t"},
		{"{\"a\": 1}", "  "},
		{"{\r\n   \"a\": 1\r\n}", "   "},
	} {
		if got := detectIndent([]byte(tt.in)); got != tt.want {
			t.Errorf("detectIndent(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}
