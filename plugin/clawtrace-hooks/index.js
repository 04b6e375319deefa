// clawtrace-hooks: an OpenClaw plugin that records every plugin hook event
// as one JSON line in a "hook dump" file, which clawtrace reads.
//
// Line format (shared/docs/openclaw-formats.md §6; user docs: docs/capture.md):
//
//   {"v":1,"seq":N,"ts":<epoch ms>,"pid":P,"inst":I,"hook":"<name>","event":{...},"ctx":{...}}
//
// Contract:
//   - ts is taken with Date.now() as the first thing the handler does, and the
//     line is written with fs.appendFileSync before the handler returns, so the
//     file order is the firing order. seq counts lines per process (shared by
//     every copy of this module that the process loads) and is authoritative
//     when ts ties. inst numbers the plugin registrations in the process.
//   - Handlers never throw and never return a value: returning something from
//     before_tool_call, tool_result_persist or before_message_write would change
//     what OpenClaw does.
//   - event and ctx are sanitised: functions, symbols, AbortSignals and the
//     keys getSessionExtension, toolAuthority, hookInvocation are dropped;
//     cycles become "[Circular]"; BigInt becomes a string; long strings are cut;
//     messages/historyMessages arrays keep their last maxMessages entries and
//     get "truncated": true next to them. Unless config content is true,
//     conversation content (prompts, message text, tool parameters and
//     results, system prompt, assistant texts) is replaced by its size, and
//     llm_input's tool definitions are reduced to their names.
//
// No dependencies; runs on Node 20+ (OpenClaw itself needs Node 24).

import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";

export const PLUGIN_ID = "clawtrace-hooks";
export const PLUGIN_VERSION = "1.0.0";

/** Dump format version written as "v". */
export const FORMAT_VERSION = 1;

/** Name of the pseudo-hook line written once per registration. */
export const REGISTER_HOOK = "__plugin_register";

/**
 * Every typed hook name known to this recorder: the 42 of OpenClaw 2026.9.x
 * plus before_agent_start and subagent_spawning, which older releases
 * (2026.6, 2026.7) still have. OpenClaw ignores a name it does not know (it
 * records an "unknown typed hook" plugin diagnostic), so registering the union
 * is safe on every version.
 */
export const HOOK_NAMES = Object.freeze([
  // agent run
  "before_model_resolve",
  "agent_turn_prepare",
  "before_prompt_build",
  "before_agent_start",
  "before_agent_reply",
  "before_agent_run",
  "model_call_started",
  "model_call_ended",
  "llm_input",
  "llm_output",
  "before_agent_finalize",
  "agent_end",
  // compaction and reset
  "before_compaction",
  "after_compaction",
  "before_reset",
  // messages and delivery
  "inbound_claim",
  "channel_pairing_requested",
  "message_received",
  "message_sending",
  "reply_payload_sending",
  "message_sent",
  "before_dispatch",
  "reply_dispatch",
  // tools and persistence
  "before_tool_call",
  "after_tool_call",
  "tool_result_persist",
  "before_message_write",
  "resolve_exec_env",
  // sessions and subagents
  "session_start",
  "session_end",
  "subagent_spawning",
  "subagent_delivery_target",
  "subagent_spawned",
  "subagent_progress",
  "subagent_ended",
  // gateway, cron, skills, install
  "gateway_start",
  "gateway_stop",
  "heartbeat_prompt_contribution",
  "cron_reconciled",
  "cron_changed",
  "skill_proposal_evaluate",
  "skill_proposal_changed",
  "skill_changed",
  "before_install",
]);

/**
 * The hooks registered by default: the ones clawtrace reads (§6 of the
 * formats doc). Some other hooks change what OpenClaw does merely by having
 * a handler — message_sending and reply_payload_sending turn off Telegram's
 * live reply preview, skill_proposal_evaluate records a verdict — so the
 * full list is opt-in (config allHooks: true).
 */
export const READER_HOOKS = Object.freeze([
  "model_call_started",
  "model_call_ended",
  "llm_input",
  "llm_output",
  "agent_end",
  "before_tool_call",
  "after_tool_call",
  "tool_result_persist",
  "session_start",
  "session_end",
  "before_compaction",
  "after_compaction",
  "subagent_spawned",
  "subagent_ended",
  "message_received",
  "message_sent",
]);

/**
 * Priority of the recorder's handlers: OpenClaw runs handlers of one hook
 * in priority order (higher first), so a high priority stamps the time
 * before other plugins' handlers run (an approval prompt, say).
 */
export const RECORDER_PRIORITY = 1000000;

/** Defaults for the plugin config (plugins.entries.clawtrace-hooks.config). */
export const DEFAULTS = Object.freeze({
  content: false,
  maxBytes: 64 * 1024 * 1024,
  maxRotated: 1,
  maxStringChars: 4096,
  maxMessages: 50,
});

/** Environment variable that overrides the dump path. */
export const PATH_ENV = "CLAWTRACE_HOOKS_FILE";

// Keys dropped wherever they appear: host handles that are not data.
const DROP_KEYS = new Set(["getSessionExtension", "toolAuthority", "hookInvocation"]);

// Keys dropped from the top level of ctx: the gateway hooks pass the whole
// OpenClaw config (with provider API keys) as ctx.config.
const DROP_CTX_KEYS = new Set(["config", "getCron"]);

// Keys whose value is always replaced, content mode or not.
const SECRET_KEYS = new Set([
  "apikey",
  "api_key",
  "token",
  "accesstoken",
  "refreshtoken",
  "password",
  "secret",
  "clientsecret",
  "authorization",
  "cookie",
]);

// Keys that hold conversation content. Without content mode their value is
// replaced by {"omitted":true,...}. Matching ignores case, and also catches
// keys ending in body, prompt, transcript, history, caption or text (but not
// context), which covers the channel message context of reply_dispatch
// (Body, RawBody, ThreadHistoryBody, GroupSystemPrompt, ReplyToQuoteText...).
// "content", "messages" and "historyMessages" are special: arrays are kept as
// structure (roles, block types, tool-call ids, usage) and only the text
// inside them is replaced.
const CONTENT_KEYS = new Set(
  [
    "prompt",
    "systemPrompt",
    "extraSystemPrompt",
    "cleanedBody",
    "content",
    "text",
    "thinking",
    "body",
    "bodyForAgent",
    "transcript",
    "replyToBody",
    "rawText",
    "summary",
    "arguments",
    "partialJson",
    "input",
    "params",
    "result",
    "details",
    "data",
    "images",
    "assistantTexts",
    "lastAssistantMessage",
    "queuedInjections",
    "derivedPaths",
    "hookMessages",
    "untrustedContext",
    "channelPromptContext",
    "supplementalContext",
    "sessionTranscriptContext",
    "ctx",
  ].map((k) => k.toLowerCase()),
);

function isContentKey(key) {
  const k = key.toLowerCase();
  if (CONTENT_KEYS.has(k)) return true;
  return (
    k.endsWith("body") ||
    k.endsWith("prompt") ||
    k.endsWith("transcript") ||
    k.endsWith("history") ||
    k.endsWith("caption") ||
    (k.endsWith("text") && !k.endsWith("context"))
  );
}

// Keys whose arrays are kept as structure in redacted mode.
const STRUCTURE_ARRAY_KEYS = new Set(["content", "messages", "historyMessages"]);

// Arrays of messages that are capped to their last maxMessages entries.
const MESSAGE_ARRAY_KEYS = new Set(["messages", "historyMessages"]);

const OMIT = Symbol("omit");
const MAX_DEPTH = 48;
const MEASURE_BUDGET = 50000;

// Process-wide state shared by every copy of this module: OpenClaw may load
// the plugin module more than once per process (one copy per registration
// pass), and seq must still count lines per process.
const SHARED_KEY = Symbol.for("clawtrace.hooks.process");
function shared() {
  let s = globalThis[SHARED_KEY];
  if (!s || typeof s !== "object") {
    s = { seq: 0, inst: 0, writers: new Map() };
    globalThis[SHARED_KEY] = s;
  }
  return s;
}

// ---------------------------------------------------------------------------
// Sanitising

/**
 * sanitize returns a JSON-safe copy of value.
 *
 * opts: {content, maxStringChars, maxMessages, ctx}. ctx true means value is
 * a hook context: its top-level config is dropped. Never throws for plain
 * data; getters that throw are skipped.
 */
export function sanitize(value, opts = {}) {
  const st = {
    content: opts.content === true,
    maxStringChars: intOr(opts.maxStringChars, DEFAULTS.maxStringChars),
    maxMessages: intOr(opts.maxMessages, DEFAULTS.maxMessages),
    ancestors: new Set(),
  };
  const out = walk(value, st, 0, opts.ctx === true);
  return out === OMIT ? null : out;
}

function walk(v, st, depth, isCtx) {
  switch (typeof v) {
    case "string":
      return capString(v, st.maxStringChars);
    case "number":
      return Number.isFinite(v) ? v : null;
    case "boolean":
      return v;
    case "bigint":
      return v.toString();
    case "undefined":
    case "function":
    case "symbol":
      return OMIT;
  }
  if (v === null) return null;
  if (isAbortSignal(v)) return OMIT;
  if (st.ancestors.has(v)) return "[Circular]";
  if (depth >= MAX_DEPTH) return "[MaxDepth]";
  if (v instanceof Date) return Number.isNaN(v.getTime()) ? null : v.toISOString();
  if (ArrayBuffer.isView(v) || v instanceof ArrayBuffer) return { binary: true, bytes: v.byteLength };
  st.ancestors.add(v);
  try {
    if (Array.isArray(v)) {
      const out = [];
      for (let i = 0; i < v.length; i++) {
        const r = walk(safeGet(v, i), st, depth + 1, false);
        out.push(r === OMIT ? null : r);
      }
      return out;
    }
    if (v instanceof Error) return walkObject(errorFields(v), st, depth, false);
    if (v instanceof Map) {
      const obj = {};
      for (const [k, val] of v) obj[String(k)] = val;
      return walkObject(obj, st, depth, false);
    }
    if (v instanceof Set) return walk(Array.from(v), st, depth + 1, false);
    if (typeof v.toJSON === "function" && Object.getPrototypeOf(v) !== Object.prototype) {
      let j;
      try {
        j = v.toJSON();
      } catch {
        return OMIT;
      }
      if (j !== v) return walk(j, st, depth + 1, false);
    }
    return walkObject(v, st, depth, isCtx);
  } finally {
    st.ancestors.delete(v);
  }
}

function walkObject(v, st, depth, isCtx) {
  const out = {};
  let truncated = false;
  let keys;
  try {
    keys = Object.keys(v);
  } catch {
    return {};
  }
  for (const key of keys) {
    if (DROP_KEYS.has(key)) continue;
    if (isCtx && DROP_CTX_KEYS.has(key)) continue;
    const child = safeGet(v, key);
    if (child === OMIT) continue;
    if (SECRET_KEYS.has(key.toLowerCase()) && child !== null && child !== undefined && child !== "") {
      out[key] = "[redacted]";
      continue;
    }
    if (!st.content && key === "tools" && Array.isArray(child)) {
      // llm_input's tool definitions (names, descriptions, JSON schemas) are
      // often 100-200 KB per attempt; only the names matter to clawtrace.
      out[key] = toolNames(child);
      continue;
    }
    const structure = Array.isArray(child) && STRUCTURE_ARRAY_KEYS.has(key);
    if (!st.content && !structure && isContentKey(key)) {
      const r = omitted(child);
      if (r !== OMIT) out[key] = r;
      continue;
    }
    let arr = child;
    const capped =
      st.maxMessages > 0 && MESSAGE_ARRAY_KEYS.has(key) && Array.isArray(child) && child.length > st.maxMessages;
    if (capped) arr = child.slice(child.length - st.maxMessages);
    const r = structure && !st.content ? walkRedactedArray(arr, st, depth + 1) : walk(arr, st, depth + 1, false);
    if (r !== OMIT) out[key] = r;
    if (capped) {
      out[key + "Total"] = child.length;
      truncated = true;
    }
  }
  if (truncated) out.truncated = true;
  return out;
}

// walkRedactedArray walks a content or messages array in redacted mode:
// objects (content blocks, messages) keep their structure, bare strings are
// replaced by their size.
function walkRedactedArray(arr, st, depth) {
  if (st.ancestors.has(arr)) return "[Circular]";
  if (depth >= MAX_DEPTH) return "[MaxDepth]";
  st.ancestors.add(arr);
  try {
    const out = [];
    for (let i = 0; i < arr.length; i++) {
      const item = safeGet(arr, i);
      const r = typeof item === "string" || typeof item === "bigint" ? omitted(item) : walk(item, st, depth + 1, false);
      out.push(r === OMIT ? null : r);
    }
    return out;
  } finally {
    st.ancestors.delete(arr);
  }
}

function toolNames(tools) {
  const out = [];
  for (let i = 0; i < tools.length; i++) {
    const t = safeGet(tools, i);
    const name = t && typeof t === "object" ? safeGet(t, "name") : t;
    out.push(typeof name === "string" ? { name } : null);
  }
  return out;
}

function safeGet(obj, key) {
  try {
    return obj[key];
  } catch {
    return OMIT;
  }
}

function errorFields(err) {
  const o = { name: safeGet(err, "name"), message: safeGet(err, "message") };
  for (const k of Object.keys(err)) o[k] = safeGet(err, k);
  return o;
}

function isAbortSignal(v) {
  if (typeof AbortSignal === "function" && v instanceof AbortSignal) return true;
  return Object.prototype.toString.call(v) === "[object AbortSignal]";
}

/** Replacement for a content value: its size, never the value itself. */
function omitted(v) {
  if (v === undefined || typeof v === "function" || typeof v === "symbol") return OMIT;
  if (v === null || typeof v === "number" || typeof v === "boolean") return v;
  if (typeof v === "string") return { omitted: true, chars: v.length };
  if (typeof v === "bigint") return { omitted: true, chars: v.toString().length };
  if (isAbortSignal(v)) return OMIT;
  if (Array.isArray(v)) return { omitted: true, items: v.length, chars: measure(v) };
  return { omitted: true, chars: measure(v) };
}

/**
 * measure approximates the JSON length of v in characters. Cycle-safe; after
 * MEASURE_BUDGET nodes it stops counting (the result is then a lower bound).
 */
export function measure(v) {
  let budget = MEASURE_BUDGET;
  const ancestors = new Set();
  const m = (x, depth) => {
    if (--budget < 0) return 0;
    switch (typeof x) {
      case "string":
        return x.length + 2;
      case "number":
      case "boolean":
      case "bigint":
        return String(x).length;
      case "undefined":
      case "function":
      case "symbol":
        return 0;
    }
    if (x === null) return 4;
    if (ancestors.has(x) || depth > MAX_DEPTH) return 12;
    if (ArrayBuffer.isView(x) || x instanceof ArrayBuffer) return x.byteLength;
    ancestors.add(x);
    try {
      // "[" a "," b "]" and "{" "k":a "," ... "}", as JSON.stringify writes them.
      let n = 2;
      if (Array.isArray(x)) {
        for (let i = 0; i < x.length && budget > 0; i++) n += m(safeGet(x, i), depth + 1) + (i > 0 ? 1 : 0);
        return n;
      }
      let keys;
      try {
        keys = Object.keys(x);
      } catch {
        return n;
      }
      let first = true;
      for (const k of keys) {
        if (budget <= 0) break;
        const v = safeGet(x, k);
        if (v === undefined || typeof v === "function" || typeof v === "symbol") continue;
        n += k.length + 3 + m(v, depth + 1) + (first ? 0 : 1);
        first = false;
      }
      return n;
    } finally {
      ancestors.delete(x);
    }
  };
  return m(v, 0);
}

/** capString cuts s to max characters (0 = no cap) and appends a marker. */
export function capString(s, max) {
  if (!(max > 0) || s.length <= max) return s;
  let cut = max;
  const c = s.charCodeAt(cut - 1);
  if (c >= 0xd800 && c <= 0xdbff) cut--; // do not split a surrogate pair
  return s.slice(0, cut) + `…[truncated, ${s.length} chars]`;
}

function intOr(v, d) {
  return typeof v === "number" && Number.isFinite(v) && v >= 0 ? Math.floor(v) : d;
}

// ---------------------------------------------------------------------------
// Config and paths

/**
 * resolveOptions turns the plugin config into recorder options.
 *
 * Dump path, first match wins: env CLAWTRACE_HOOKS_FILE, config path, then
 * <stateDir>/clawtrace/hooks.jsonl. A relative path is taken from stateDir;
 * a leading "~" is the home directory.
 */
export function resolveOptions(pluginConfig, { env = process.env, stateDir } = {}) {
  const cfg = pluginConfig && typeof pluginConfig === "object" ? pluginConfig : {};
  const state = stateDir || defaultStateDir(env);
  let file = nonEmpty(env[PATH_ENV]) || nonEmpty(cfg.path) || path.join("clawtrace", "hooks.jsonl");
  file = expandHome(file, env);
  if (!path.isAbsolute(file)) file = path.resolve(state, file);
  const names = new Set(cfg.allHooks === true ? HOOK_NAMES : READER_HOOKS);
  for (const n of arrayOfStrings(cfg.extraHooks)) names.add(n);
  for (const n of arrayOfStrings(cfg.skipHooks)) names.delete(n);
  return {
    file,
    content: cfg.content === true,
    maxBytes: intOr(cfg.maxBytes, DEFAULTS.maxBytes),
    maxRotated: Math.min(intOr(cfg.maxRotated, DEFAULTS.maxRotated), 9),
    maxStringChars: intOr(cfg.maxStringChars, DEFAULTS.maxStringChars),
    maxMessages: intOr(cfg.maxMessages, DEFAULTS.maxMessages),
    hooks: Array.from(names),
  };
}

/**
 * stateDirFor returns OpenClaw's state directory as OpenClaw resolves it:
 * $OPENCLAW_STATE_DIR, else the directory of $OPENCLAW_CONFIG_PATH, else the
 * directory that holds the extensions/ folder this plugin was loaded from,
 * else ~/.openclaw (~/.clawdbot when only that legacy directory exists).
 */
export function stateDirFor(rootDir, env = process.env) {
  const override = nonEmpty(env.OPENCLAW_STATE_DIR);
  if (override) return path.resolve(expandHome(override, env));
  const configPath = nonEmpty(env.OPENCLAW_CONFIG_PATH);
  if (configPath) return path.dirname(path.resolve(expandHome(configPath, env)));
  if (rootDir && path.basename(path.dirname(rootDir)) === "extensions") {
    return path.dirname(path.dirname(rootDir));
  }
  return defaultStateDir(env);
}

function defaultStateDir(env) {
  const home = homeDir(env);
  const dir = path.join(home, ".openclaw");
  const legacy = path.join(home, ".clawdbot");
  try {
    if (!fs.existsSync(dir) && fs.existsSync(legacy)) return legacy;
  } catch {
    // fall through
  }
  return dir;
}

function homeDir(env) {
  return nonEmpty(env.OPENCLAW_HOME) || nonEmpty(env.HOME) || nonEmpty(env.USERPROFILE) || os.homedir();
}

function expandHome(p, env) {
  if (p === "~") return homeDir(env);
  if (p.startsWith("~/") || p.startsWith("~\\")) return path.join(homeDir(env), p.slice(2));
  return p;
}

function nonEmpty(v) {
  return typeof v === "string" && v.trim() !== "" ? v.trim() : "";
}

function arrayOfStrings(v) {
  return Array.isArray(v) ? v.filter((x) => typeof x === "string" && x !== "") : [];
}

// ---------------------------------------------------------------------------
// Writing

/**
 * createRecorder returns {record(hook, event, ctx, inst), options}. record
 * never throws and returns nothing. Writers are shared per file within the
 * process, so two registrations writing the same file rotate it once.
 */
export function createRecorder(options, logger) {
  const opts = { ...options };
  const state = shared();
  let writer = state.writers.get(opts.file);
  if (!writer) {
    writer = { file: opts.file, size: -1, failures: 0, warned: false };
    state.writers.set(opts.file, writer);
  }
  writer.maxBytes = opts.maxBytes;
  writer.maxRotated = opts.maxRotated;
  const sopts = { content: opts.content, maxStringChars: opts.maxStringChars, maxMessages: opts.maxMessages };

  function record(hook, event, ctx, inst) {
    const ts = Date.now();
    try {
      let ev;
      let cx;
      try {
        ev = sanitize(event, sopts);
        cx = sanitize(ctx, { ...sopts, ctx: true });
      } catch (err) {
        ev = { clawtraceError: "sanitize failed: " + errMessage(err) };
        cx = null;
      }
      const seq = ++state.seq;
      const line = {
        v: FORMAT_VERSION,
        seq,
        ts,
        pid: process.pid,
        inst: inst ?? 0,
        hook: String(hook),
        event: ev === undefined ? null : ev,
        ctx: cx === undefined ? null : cx,
      };
      append(writer, JSON.stringify(line) + "\n");
    } catch (err) {
      writer.failures++;
      if (!writer.warned) {
        writer.warned = true;
        try {
          logger?.warn?.(`[${PLUGIN_ID}] cannot write hook dump ${writer.file}: ${errMessage(err)}`);
        } catch {
          // never throw into OpenClaw
        }
      }
    }
  }
  return { record, options: opts, writer };
}

function append(w, line) {
  const bytes = Buffer.byteLength(line);
  if (w.size < 0) {
    fs.mkdirSync(path.dirname(w.file), { recursive: true, mode: 0o700 });
    w.size = fileSize(w.file);
  }
  if (w.maxBytes > 0 && w.size > 0 && w.size + bytes > w.maxBytes) {
    // Another process may have rotated already: trust the file, not our count.
    w.size = fileSize(w.file);
    if (w.size > 0 && w.size + bytes > w.maxBytes) rotate(w);
  }
  try {
    fs.appendFileSync(w.file, line, { mode: 0o600 });
  } catch (err) {
    if (!err || err.code !== "ENOENT") throw err;
    // The directory was removed while OpenClaw ran: make it again, once.
    fs.mkdirSync(path.dirname(w.file), { recursive: true, mode: 0o700 });
    fs.appendFileSync(w.file, line, { mode: 0o600 });
    w.size = 0;
  }
  w.size += bytes;
}

// rotate moves hooks.jsonl to hooks.1.jsonl (hooks.1.jsonl to hooks.2.jsonl,
// and so on, up to maxRotated) and starts a new file. The generation goes
// before the extension so that rotated files still end in .jsonl, which is
// what clawtrace looks for in <state>/clawtrace/.
//
// N.B. Two processes that pass maxBytes at the same moment may both rotate;
// the second rename then replaces the first rotated file with a small one.
function rotate(w) {
  if (w.maxRotated <= 0) {
    fs.rmSync(w.file, { force: true });
  } else {
    fs.rmSync(rotatedName(w.file, w.maxRotated), { force: true });
    for (let i = w.maxRotated - 1; i >= 1; i--) renameIfExists(rotatedName(w.file, i), rotatedName(w.file, i + 1));
    renameIfExists(w.file, rotatedName(w.file, 1));
  }
  w.size = 0;
}

/** rotatedName("/d/hooks.jsonl", 1) is "/d/hooks.1.jsonl"; without an extension, "/d/f" gives "/d/f.1". */
export function rotatedName(file, i) {
  const ext = path.extname(file);
  if (!ext || ext === file || path.basename(file) === ext) return `${file}.${i}`;
  return `${file.slice(0, -ext.length)}.${i}${ext}`;
}

function renameIfExists(from, to) {
  try {
    fs.renameSync(from, to);
  } catch (err) {
    if (err && err.code !== "ENOENT") throw err;
  }
}

function fileSize(file) {
  try {
    return fs.statSync(file).size;
  } catch {
    return 0;
  }
}

function errMessage(err) {
  try {
    return err && err.message ? String(err.message) : String(err);
  } catch {
    return "unknown error";
  }
}

// ---------------------------------------------------------------------------
// Plugin entry

function pluginRootDir(api) {
  if (api && typeof api.rootDir === "string" && api.rootDir) return api.rootDir;
  try {
    return path.dirname(fileURLToPath(import.meta.url));
  } catch {
    return "";
  }
}

/**
 * register is called by OpenClaw with the plugin API. It registers one
 * observer per hook name with api.on and writes a __plugin_register line.
 * It does nothing when api.on is missing (metadata-only registration passes).
 */
export function register(api) {
  try {
    if (!api || typeof api.on !== "function") return;
    const env = process.env;
    const opts = resolveOptions(api.pluginConfig, { env, stateDir: stateDirFor(pluginRootDir(api), env) });
    const recorder = createRecorder(opts, api.logger);
    const inst = ++shared().inst;
    const registered = [];
    for (const name of opts.hooks) {
      try {
        api.on(
          name,
          (event, ctx) => {
            recorder.record(name, event, ctx, inst);
          },
          { priority: RECORDER_PRIORITY },
        );
        registered.push(name);
      } catch {
        // an unknown or refused hook name must not stop the others
      }
    }
    recorder.record(
      REGISTER_HOOK,
      {
        plugin: PLUGIN_ID,
        version: PLUGIN_VERSION,
        registrationMode: typeof api.registrationMode === "string" ? api.registrationMode : null,
        content: opts.content,
        maxStringChars: opts.maxStringChars,
        maxMessages: opts.maxMessages,
        hooks: registered,
      },
      null,
      inst,
    );
  } catch (err) {
    try {
      api?.logger?.warn?.(`[${PLUGIN_ID}] registration failed: ${errMessage(err)}`);
    } catch {
      // never throw into OpenClaw
    }
  }
}

export default {
  id: PLUGIN_ID,
  name: "clawtrace hook recorder",
  description: "Appends one JSON line per OpenClaw plugin hook event to a hook dump file that clawtrace reads.",
  register,
};
