// Package plugin embeds clawtrace-hooks, the OpenClaw plugin that records
// hook events to a hook dump file, and installs it into an OpenClaw state
// directory or removes it again.
//
// Contract:
//
//   - Install copies the plugin's runtime files (index.js, package.json,
//     openclaw.plugin.json) to <state>/extensions/clawtrace-hooks, the global
//     plugin root OpenClaw discovers on every start, and enables the plugin
//     in <state>/openclaw.json with plugins.entries.clawtrace-hooks =
//     {"enabled": true, "hooks": {"allowConversationAccess": true}}.
//   - The config file is rewritten only when it is plain JSON. OpenClaw reads
//     it as JSON5 and supports "$include"; a file with comments, trailing
//     commas, unquoted keys or includes is left alone and the caller gets the
//     exact snippet to merge by hand (Result.Snippet). Rewrites keep every
//     other key, the key order, and every scalar value byte for byte; the
//     layout is normalized to one key per line with the file's indentation
//     (an object written on one line is spread over several).
//   - Every write is atomic (temporary file in the same directory, then
//     rename). Install and Uninstall are idempotent: a second run with the
//     same arguments writes nothing and reports nothing done.
//   - Uninstall never deletes hook dumps: they are the user's data.
//
// The plugin itself (clawtrace-hooks/index.js) documents the dump format; see
// also docs/capture.md.
package plugin
