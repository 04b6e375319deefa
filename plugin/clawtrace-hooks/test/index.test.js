// Tests for the clawtrace-hooks recorder. Run: node --test plugin/clawtrace-hooks/
// A fake plugin API collects the api.on registrations; the tests fire them
// like OpenClaw does and read back the dump file.

import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";

import plugin, {
  HOOK_NAMES,
  READER_HOOKS,
  RECORDER_PRIORITY,
  PATH_ENV,
  REGISTER_HOOK,
  capString,
  measure,
  resolveOptions,
  rotatedName,
  sanitize,
  stateDirFor,
} from "../index.js";

// §6 of openclaw-formats.md: hooks the recorder must register.
const REQUIRED_HOOKS = [
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
];

let tmp;
before(() => {
  delete process.env[PATH_ENV];
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), "clawtrace-hooks-test-"));
});
after(() => {
  fs.rmSync(tmp, { recursive: true, force: true });
});

function fakeApi(config, extra = {}) {
  const handlers = new Map();
  const warnings = [];
  const api = {
    id: "clawtrace-hooks",
    registrationMode: "full",
    pluginConfig: config,
    logger: { warn: (m) => warnings.push(m), info() {}, error() {}, debug() {} },
    on(name, handler, opts) {
      assert.equal(opts?.priority, RECORDER_PRIORITY, `${name} registered with the recorder's priority`);
      handlers.set(name, handler);
    },
    ...extra,
  };
  return { api, handlers, warnings };
}

function setup(name, config = {}) {
  const file = path.join(tmp, name, "hooks.jsonl");
  const fake = fakeApi({ path: file, ...config });
  plugin.register(fake.api);
  return { ...fake, file };
}

function readLines(file) {
  return fs
    .readFileSync(file, "utf8")
    .split("\n")
    .filter((l) => l !== "")
    .map((l) => JSON.parse(l));
}

function fire(handlers, name, event, ctx) {
  const h = handlers.get(name);
  assert.ok(h, `handler for ${name} registered`);
  const r = h(event, ctx);
  assert.equal(r, undefined, `${name} handler returns nothing`);
}

test("default export is an OpenClaw plugin definition", () => {
  assert.equal(plugin.id, "clawtrace-hooks");
  assert.equal(typeof plugin.register, "function");
  const manifest = JSON.parse(fs.readFileSync(new URL("../openclaw.plugin.json", import.meta.url), "utf8"));
  assert.equal(manifest.id, plugin.id);
  assert.equal(typeof manifest.configSchema, "object");
  const pkg = JSON.parse(fs.readFileSync(new URL("../package.json", import.meta.url), "utf8"));
  assert.deepEqual(pkg.openclaw.extensions, ["./index.js"]);
  assert.equal(pkg.type, "module");
  assert.equal(Object.keys(pkg.dependencies ?? {}).length, 0);
});

test("registers the required hooks only by default and writes a register line", () => {
  const { handlers, file } = setup("register");
  for (const h of REQUIRED_HOOKS) assert.ok(handlers.has(h), `registers ${h}`);
  assert.equal(handlers.size, READER_HOOKS.length);
  for (const h of ["message_sending", "reply_payload_sending", "skill_proposal_evaluate", "before_agent_run"]) {
    assert.ok(!handlers.has(h), `does not register ${h} by default (it changes OpenClaw's behaviour)`);
  }
  const lines = readLines(file);
  assert.equal(lines.length, 1);
  assert.equal(lines[0].hook, REGISTER_HOOK);
  assert.equal(lines[0].event.registrationMode, "full");
  assert.equal(lines[0].event.content, false);
  assert.deepEqual(lines[0].event.hooks, READER_HOOKS);
  assert.equal(lines[0].ctx, null);
});

test("allHooks registers every known hook", () => {
  const { handlers } = setup("allhooks", { allHooks: true });
  assert.equal(handlers.size, HOOK_NAMES.length);
});

test("every handler returns nothing, even for odd payloads", () => {
  const { handlers, file } = setup("all");
  for (const [name, h] of handlers) {
    assert.equal(h({}, {}), undefined, name);
    assert.equal(h(undefined, undefined), undefined, name);
    assert.equal(h(null, 42), undefined, name);
  }
  const lines = readLines(file);
  assert.equal(lines.length, 1 + 3 * handlers.size);
  assert.deepEqual(lines[2].event, null);
  assert.deepEqual(lines[3].ctx, 42);
});

test("does nothing when api.on is missing", () => {
  const file = path.join(tmp, "noon", "hooks.jsonl");
  plugin.register({ pluginConfig: { path: file }, registrationMode: "cli-metadata" });
  plugin.register(undefined);
  assert.equal(fs.existsSync(file), false);
});

test("one line per event, synchronously, in firing order", () => {
  const { handlers, file } = setup("order");
  const t0 = Date.now();
  fire(
    handlers,
    "model_call_started",
    { runId: "r-9", callId: "r-9:model:1", provider: "mock", model: "m1" },
    { runId: "r-9", modelProviderId: "mock", modelId: "m1" },
  );
  // Written before the handler returned.
  assert.equal(readLines(file).length, 2);
  fire(
    handlers,
    "model_call_ended",
    { runId: "r-9", callId: "r-9:model:1", durationMs: 2790, outcome: "completed" },
    { runId: "r-9" },
  );
  fire(handlers, "before_tool_call", { toolName: "read", runId: "r-9", toolCallId: "call_a" }, undefined);
  const t1 = Date.now();
  const lines = readLines(file);
  assert.deepEqual(
    lines.map((l) => l.hook),
    [REGISTER_HOOK, "model_call_started", "model_call_ended", "before_tool_call"],
  );
  for (let i = 1; i < lines.length; i++) {
    const l = lines[i];
    assert.equal(l.v, 1);
    assert.equal(l.seq, lines[i - 1].seq + 1);
    assert.equal(l.pid, process.pid);
    assert.ok(l.ts >= t0 && l.ts <= t1, "ts taken when the hook fired");
    assert.ok(l.ts >= lines[i - 1].ts);
  }
  assert.deepEqual(Object.keys(lines[1]), ["v", "seq", "ts", "pid", "inst", "hook", "event", "ctx"]);
  assert.deepEqual(lines[1].event, { runId: "r-9", callId: "r-9:model:1", provider: "mock", model: "m1" });
  assert.deepEqual(lines[2].ctx, { runId: "r-9" });
  assert.equal(lines[3].ctx, null);
});

test("seq is shared by all registrations in one process", () => {
  const a = setup("shared");
  const b = setup("shared");
  fire(a.handlers, "session_start", { sessionId: "s1" }, { sessionId: "s1" });
  fire(b.handlers, "session_end", { sessionId: "s1", messageCount: 2 }, { sessionId: "s1" });
  const lines = readLines(a.file);
  assert.equal(lines.length, 4);
  for (let i = 1; i < lines.length; i++) assert.equal(lines[i].seq, lines[i - 1].seq + 1);
  assert.equal(lines[3].inst, lines[1].inst);
  assert.equal(lines[2].inst, lines[0].inst);
  assert.equal(lines[1].inst, lines[0].inst + 1);
});

test("sanitises cycles, functions, BigInt, AbortSignal, huge strings and host handles", () => {
  const { handlers, file } = setup("sanitise", { content: true, maxStringChars: 100 });
  const cyclic = { name: "loop", list: [1, 2] };
  cyclic.self = cyclic;
  cyclic.list.push(cyclic);
  const shared = { k: "v" };
  const controller = new AbortController();
  const huge = "x".repeat(100000);
  const event = {
    toolName: "exec",
    params: { command: "ls", cyclic, a: shared, b: shared },
    runId: "r1",
    toolCallId: "c1",
    tokens: 12345678901234567890n,
    fn() {
      return 1;
    },
    sym: Symbol("s"),
    undef: undefined,
    nan: Number.NaN,
    when: new Date(0),
    buf: Buffer.from("abc"),
    err: new Error("boom"),
    huge,
    arr: [() => 1, undefined, 3n],
  };
  const ctx = {
    toolName: "exec",
    runId: "r1",
    abortSignal: controller.signal,
    getSessionExtension: () => ({}),
    toolAuthority: { secret: true },
    hookInvocation: { id: 1 },
    config: { models: { providers: { x: { apiKey: "sk-secret" } } } },
    nested: { getSessionExtension: 1, signal: AbortSignal.abort() },
    get broken() {
      throw new Error("getter throws");
    },
  };
  fire(handlers, "before_tool_call", event, ctx);
  const line = readLines(file).at(-1);
  const ev = line.event;
  assert.deepEqual(ev.params.cyclic, { name: "loop", list: [1, 2, "[Circular]"], self: "[Circular]" });
  assert.deepEqual(ev.params.a, { k: "v" });
  assert.deepEqual(ev.params.b, { k: "v" }, "shared, non-cyclic references are not circular");
  assert.equal(ev.tokens, "12345678901234567890");
  assert.equal("fn" in ev, false);
  assert.equal("sym" in ev, false);
  assert.equal("undef" in ev, false);
  assert.equal(ev.nan, null);
  assert.equal(ev.when, "1970-01-01T00:00:00.000Z");
  assert.deepEqual(ev.buf, { binary: true, bytes: 3 });
  assert.equal(ev.err.message, "boom");
  assert.equal(ev.err.name, "Error");
  assert.deepEqual(ev.arr, [null, null, "3"]);
  assert.ok(ev.huge.length < 200);
  assert.ok(ev.huge.startsWith("x".repeat(100)));
  assert.match(ev.huge, /…\[truncated, 100000 chars\]$/);
  assert.deepEqual(line.ctx, { toolName: "exec", runId: "r1", nested: {} });
});

test("capString does not split surrogate pairs", () => {
  const s = "ab😀cd";
  assert.equal(capString(s, 3), "ab…[truncated, 6 chars]");
  assert.equal(capString(s, 0), s);
  assert.equal(capString("short", 10), "short");
});

test("content is omitted by default and kept with content: true", () => {
  const event = {
    runId: "r1",
    sessionId: "s1",
    provider: "mock",
    model: "m1",
    systemPrompt: "You are a helpful assistant.",
    prompt: "Read secret.txt",
    historyMessages: [
      { role: "user", content: "earlier question", timestamp: 1 },
      {
        role: "assistant",
        content: [
          { type: "text", text: "Reading it." },
          { type: "toolCall", id: "call_a", name: "read", arguments: { path: "secret.txt" } },
        ],
        usage: { input: 10, output: 5, totalTokens: 15 },
        stopReason: "toolUse",
      },
      { role: "toolResult", toolCallId: "call_a", content: [{ type: "text", text: "TOP SECRET" }], details: { x: 1 } },
    ],
    imagesCount: 0,
    tools: [{ name: "read", description: "Read files", parameters: { type: "object" } }],
  };
  const ctx = { runId: "r1", agentId: "main", sessionKey: "agent:main:main" };

  const redacted = setup("redacted");
  fire(redacted.handlers, "llm_input", event, ctx);
  fire(redacted.handlers, "llm_output", { runId: "r1", assistantTexts: ["a", "bc"], usage: { input: 1, output: 2 } }, ctx);
  fire(redacted.handlers, "message_received", { from: "u1", content: "hi there", metadata: { Body: "hi there" } }, {});
  const [, input, output, received] = readLines(redacted.file);
  const text = JSON.stringify([input, output, received]);
  for (const secret of ["secret.txt", "TOP SECRET", "Read secret", "helpful", "earlier question", "Reading it", "hi there"]) {
    assert.equal(text.includes(secret), false, `redacted dump must not contain ${JSON.stringify(secret)}`);
  }
  assert.deepEqual(input.event.systemPrompt, { omitted: true, chars: 28 });
  assert.deepEqual(input.event.prompt, { omitted: true, chars: 15 });
  const [user, assistant, tool] = input.event.historyMessages;
  assert.deepEqual(user.content, { omitted: true, chars: 16 });
  assert.deepEqual(assistant.content[1], {
    type: "toolCall",
    id: "call_a",
    name: "read",
    arguments: { omitted: true, chars: JSON.stringify({ path: "secret.txt" }).length },
  });
  assert.deepEqual(assistant.usage, { input: 10, output: 5, totalTokens: 15 });
  assert.equal(assistant.stopReason, "toolUse");
  assert.equal(tool.toolCallId, "call_a");
  assert.equal(tool.details.omitted, true);
  assert.deepEqual(input.event.tools, [{ name: "read" }]);
  assert.deepEqual(input.ctx, ctx);
  assert.deepEqual(output.event.assistantTexts.items, 2);
  assert.deepEqual(output.event.usage, { input: 1, output: 2 });
  assert.deepEqual(received.event.content, { omitted: true, chars: 8 });
  assert.deepEqual(received.event.metadata.Body, { omitted: true, chars: 8 });

  const full = setup("full", { content: true });
  fire(full.handlers, "llm_input", event, ctx);
  const [, kept] = readLines(full.file);
  assert.deepEqual(kept.event, event);
});

test("messages arrays are capped to the last maxMessages with truncated: true", () => {
  const { handlers, file } = setup("cap", { maxMessages: 3 });
  const messages = Array.from({ length: 10 }, (_, i) => ({ role: "user", content: `m${i}`, timestamp: i }));
  fire(handlers, "agent_end", { runId: "r1", messages, success: true }, {});
  fire(handlers, "agent_end", { runId: "r2", messages: messages.slice(0, 2), success: true }, {});
  const [, capped, small] = readLines(file);
  assert.deepEqual(
    capped.event.messages.map((m) => m.timestamp),
    [7, 8, 9],
  );
  assert.equal(capped.event.truncated, true);
  assert.equal(capped.event.messagesTotal, 10);
  assert.equal(capped.event.success, true);
  assert.equal(small.event.messages.length, 2);
  assert.equal("truncated" in small.event, false);
});

test("rotates past maxBytes and keeps maxRotated generations", () => {
  const { handlers, file } = setup("rotate", { maxBytes: 2000, maxRotated: 2 });
  for (let i = 0; i < 40; i++) fire(handlers, "model_call_started", { runId: "r", callId: `r:model:${i}`, pad: "p".repeat(100) }, {});
  assert.ok(fs.statSync(file).size <= 2000);
  const gen = (i) => path.join(path.dirname(file), `hooks.${i}.jsonl`);
  assert.ok(fs.existsSync(gen(1)));
  assert.ok(fs.existsSync(gen(2)));
  assert.equal(fs.existsSync(gen(3)), false);
  assert.deepEqual(fs.readdirSync(path.dirname(file)).sort(), ["hooks.1.jsonl", "hooks.2.jsonl", "hooks.jsonl"]);
  // No line is lost or split between the live file and the newest rotation.
  const all = [...readLines(gen(1)), ...readLines(file)];
  for (let i = 1; i < all.length; i++) assert.equal(all[i].seq, all[i - 1].seq + 1);
  assert.equal(all.at(-1).event.callId, "r:model:39");
});

test("a dump directory removed while running is made again", () => {
  const { handlers, file } = setup("removed");
  fs.rmSync(path.dirname(file), { recursive: true });
  fire(handlers, "session_start", { sessionId: "s1" }, {});
  assert.equal(readLines(file).at(-1).hook, "session_start");
});

// withUmask runs fn with the process umask set to mask, then restores it.
function withUmask(mask, fn) {
  const old = process.umask(mask);
  try {
    return fn();
  } finally {
    process.umask(old);
  }
}

const modeOf = (p) => fs.statSync(p).mode & 0o777;

test("dump files are 0600 and the directories it makes 0700, whatever the umask", () => {
  // umask 0 would leave a file created with the default mode world-readable.
  withUmask(0, () => {
    const { handlers, file } = setup(path.join("umask0", "a", "b"), { maxBytes: 1500, maxRotated: 1 });
    for (let i = 0; i < 20; i++) fire(handlers, "model_call_started", { runId: "r", pad: "p".repeat(100) }, {});
    assert.equal(modeOf(file), 0o600, "live file");
    assert.equal(modeOf(rotatedName(file, 1)), 0o600, "rotated file");
    for (const d of [path.join(tmp, "umask0"), path.join(tmp, "umask0", "a"), path.dirname(file)]) {
      assert.equal(modeOf(d), 0o700, d);
    }
    // A directory removed while running is made again with the same modes.
    fs.rmSync(path.join(tmp, "umask0"), { recursive: true });
    fire(handlers, "session_start", { sessionId: "s1" }, {});
    assert.equal(modeOf(file), 0o600);
    assert.equal(modeOf(path.join(tmp, "umask0")), 0o700);
  });
});

test("the mode of an existing dump file is kept", () => {
  const file = path.join(tmp, "existing", "hooks.jsonl");
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, "");
  fs.chmodSync(file, 0o640);
  withUmask(0, () => {
    const fake = fakeApi({ path: file });
    plugin.register(fake.api);
    fire(fake.handlers, "session_start", { sessionId: "s1" }, {});
  });
  assert.equal(modeOf(file), 0o640);
  assert.equal(readLines(file).at(-1).hook, "session_start");
});

test("rotated names keep the extension last", () => {
  assert.equal(rotatedName("/d/hooks.jsonl", 1), "/d/hooks.1.jsonl");
  assert.equal(rotatedName("/d/a.b/dump", 2), "/d/a.b/dump.2");
  assert.equal(rotatedName("/d/.hidden", 1), "/d/.hidden.1");
});

test("maxRotated 0 discards the full file", () => {
  const { handlers, file } = setup("rotate0", { maxBytes: 1000, maxRotated: 0 });
  for (let i = 0; i < 20; i++) fire(handlers, "model_call_started", { runId: "r", pad: "p".repeat(100) }, {});
  assert.deepEqual(fs.readdirSync(path.dirname(file)), ["hooks.jsonl"]);
  assert.ok(fs.statSync(file).size <= 1000);
});

test("never throws into OpenClaw when the file cannot be written", () => {
  const blocker = path.join(tmp, "blocker");
  fs.writeFileSync(blocker, "a file, not a directory");
  const fake = fakeApi({ path: path.join(blocker, "sub", "hooks.jsonl") });
  plugin.register(fake.api);
  fire(fake.handlers, "agent_end", { runId: "r1", messages: [], success: true }, {});
  fire(fake.handlers, "agent_end", { runId: "r1", messages: [], success: true }, {});
  assert.equal(fake.warnings.length, 1, "warns once");
  // A throwing api.on or a hostile payload does not escape either.
  const hostile = fakeApi({ path: path.join(tmp, "hostile", "hooks.jsonl") }, {
    on(name, handler) {
      if (name === "llm_input") throw new Error("refused");
      hostile.handlers.set(name, handler);
    },
  });
  plugin.register(hostile.api);
  assert.equal(hostile.handlers.has("llm_input"), false);
  const proxy = new Proxy(
    {},
    {
      ownKeys() {
        throw new Error("no keys");
      },
    },
  );
  fire(hostile.handlers, "after_tool_call", proxy, proxy);
  const last = readLines(path.join(tmp, "hostile", "hooks.jsonl")).at(-1);
  assert.equal(last.hook, "after_tool_call");
});

test("dump path: env, then config path, then <state>/clawtrace/hooks.jsonl", () => {
  const env = { HOME: "/home/u" };
  assert.equal(resolveOptions({}, { env, stateDir: "/s" }).file, "/s/clawtrace/hooks.jsonl");
  assert.equal(resolveOptions({ path: "dumps/h.jsonl" }, { env, stateDir: "/s" }).file, "/s/dumps/h.jsonl");
  assert.equal(resolveOptions({ path: "~/h.jsonl" }, { env, stateDir: "/s" }).file, "/home/u/h.jsonl");
  assert.equal(
    resolveOptions({ path: "/a/h.jsonl" }, { env: { ...env, [PATH_ENV]: "/env/h.jsonl" }, stateDir: "/s" }).file,
    "/env/h.jsonl",
  );
  const o = resolveOptions({ skipHooks: ["before_agent_start"], extraHooks: ["future_hook"] }, { env, stateDir: "/s" });
  assert.equal(o.hooks.includes("before_agent_start"), false);
  assert.equal(o.hooks.includes("future_hook"), true);
  assert.equal(o.maxBytes, 64 * 1024 * 1024);
  assert.equal(o.maxStringChars, 4096);
  assert.equal(o.content, false);

  assert.equal(stateDirFor("/x/extensions/clawtrace-hooks", { OPENCLAW_STATE_DIR: "/st" }), "/st");
  assert.equal(stateDirFor("/x/extensions/clawtrace-hooks", { OPENCLAW_CONFIG_PATH: "/cfg/openclaw.json" }), "/cfg");
  assert.equal(stateDirFor("/x/extensions/clawtrace-hooks", {}), "/x");
  assert.equal(stateDirFor("/elsewhere/plugin", { OPENCLAW_HOME: "/oh" }), "/oh/.openclaw");
});

test("measure matches JSON.stringify for plain data", () => {
  for (const v of [{}, [], { a: 1, b: [true, null, "x"], c: { d: "é" } }, [1, [2, [3]]], "s", 12.5]) {
    assert.equal(measure(v), JSON.stringify(v).length, JSON.stringify(v));
  }
});

test("sanitize without options uses the redacting defaults", () => {
  assert.deepEqual(sanitize({ prompt: "p", runId: "r" }), { prompt: { omitted: true, chars: 1 }, runId: "r" });
  assert.equal(sanitize(undefined), null);
  assert.equal(sanitize(() => 1), null);
});
