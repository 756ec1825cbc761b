// Shared helpers for the process-level tests (tests/integration, tests/clients).
//
// Every process started here has a hard deadline: it is SIGKILLed when the deadline passes, when
// stop() gives up waiting, and when the test process itself exits. Nothing here sleeps to
// synchronise: waits are on process output, on sockets, or bounded polls (pollUntil).
//
// Node 18+ built-ins only. The binary is $SWITCHYARD_BIN, default build/switchyard under the repo.
import { spawn, execFile } from 'node:child_process';
import { mkdtempSync, writeFileSync, rmSync } from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import assert from 'node:assert/strict';
import { after, before, beforeEach, test } from 'node:test';
import { fileURLToPath } from 'node:url';

export const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

export function binaryPath() {
  const bin = process.env.SWITCHYARD_BIN;
  return bin ? path.resolve(bin) : path.join(REPO_ROOT, 'build', 'switchyard');
}

// ---------------------------------------------------------------------------------------------
// Processes

const live = new Set();
process.on('exit', () => {
  for (const child of live) {
    try {
      child.kill('SIGKILL');
    } catch {
      // already gone
    }
  }
});

export function tempDir(prefix = 'switchyard-test-') {
  return mkdtempSync(path.join(os.tmpdir(), prefix));
}

// Starts `switchyard ...args`. Returns a handle:
//   stdout() / stderr(): everything captured so far (strings)
//   waitFor(regex, timeoutMs): resolves with the match once stdout matches; rejects on exit/timeout
//   exited: Promise<{code, signal}>
//   stop({timeoutMs}): SIGTERM, wait (bounded), SIGKILL if needed -> {code, signal, stdout, stderr}
//   kill(): SIGKILL now
export function startProcess(args, { deadlineS = 180, env = {}, name = args[0] } = {}) {
  const childEnv = { ...process.env, ...env };
  for (const [k, v] of Object.entries(childEnv)) if (v === undefined) delete childEnv[k];
  const child = spawn(binaryPath(), args, {
    cwd: REPO_ROOT,
    env: childEnv,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  live.add(child);
  let out = '';
  let err = '';
  const watchers = new Set();
  child.stdout.setEncoding('utf8');
  child.stderr.setEncoding('utf8');
  child.stdout.on('data', (d) => {
    out += d;
    for (const w of watchers) w();
  });
  child.stderr.on('data', (d) => {
    err += d;
  });
  const exited = new Promise((resolve) => {
    child.on('error', (e) => {
      err += `\n[harness] spawn error: ${e.message}`;
    });
    child.on('close', (code, signal) => {
      live.delete(child);
      clearTimeout(deadline);
      for (const w of watchers) w();
      resolve({ code, signal });
    });
  });
  let done = false;
  exited.then(() => {
    done = true;
  });
  const deadline = setTimeout(() => {
    err += `\n[harness] ${name}: deadline of ${deadlineS}s passed, SIGKILL`;
    child.kill('SIGKILL');
  }, deadlineS * 1000);
  deadline.unref();

  const handle = {
    child,
    pid: child.pid,
    exited,
    stdout: () => out,
    stderr: () => err,
    get running() {
      return !done;
    },
    waitFor(regex, timeoutMs = 30000) {
      return new Promise((resolve, reject) => {
        const check = () => {
          const m = out.match(regex);
          if (m) {
            finish();
            resolve(m);
          } else if (done) {
            finish();
            reject(new Error(`${name} exited before printing ${regex}\nstdout:\n${out}\nstderr:\n${err}`));
          }
        };
        const timer = setTimeout(() => {
          finish();
          reject(new Error(`${name} did not print ${regex} within ${timeoutMs} ms\nstdout:\n${out}\nstderr:\n${err}`));
        }, timeoutMs);
        const finish = () => {
          clearTimeout(timer);
          watchers.delete(check);
        };
        watchers.add(check);
        check();
      });
    },
    kill() {
      if (!done) child.kill('SIGKILL');
      return exited;
    },
    async stop({ timeoutMs = 20000, signal = 'SIGTERM' } = {}) {
      if (!done) {
        child.kill(signal);
        let timer;
        const timedOut = await Promise.race([
          exited.then(() => false),
          new Promise((r) => {
            timer = setTimeout(() => r(true), timeoutMs);
          }),
        ]);
        clearTimeout(timer);
        if (timedOut) {
          err += `\n[harness] ${name}: no exit ${timeoutMs} ms after ${signal}, SIGKILL`;
          child.kill('SIGKILL');
        }
      }
      const { code, signal: sig } = await exited;
      return { code, signal: sig, stdout: out, stderr: err };
    },
  };
  return handle;
}

// Runs `switchyard ...args` to completion (bounded) and returns {code, signal, stdout, stderr}.
export async function runToExit(args, { deadlineS = 60, env = {} } = {}) {
  const p = startProcess(args, { deadlineS, env });
  const { code, signal } = await p.exited;
  return { code, signal, stdout: p.stdout(), stderr: p.stderr() };
}

// Sanitizer reports in a captured stderr, if any (the test build runs under ASan+UBSan).
export function sanitizerReports(stderr) {
  return stderr
    .split('\n')
    .filter((l) => /ERROR: (Address|Leak|Thread|Memory)Sanitizer|runtime error:/.test(l));
}

// `switchyard demo` on free ports with its own state dir.
export async function startDemo({ extraArgs = [], deadlineS = 180, env = {} } = {}) {
  const stateDir = tempDir('switchyard-demo-');
  const proc = startProcess(
    ['demo', '--listen', '127.0.0.1:0', '--state-dir', stateDir, '--emulator-listen', '127.0.0.1:0',
      ...extraArgs],
    { deadlineS, env, name: 'demo' },
  );
  const emu = await proc.waitFor(/emulator listening on (http:\/\/\S+)/);
  const ledger = await proc.waitFor(/ledger at (\S+)/);
  const gw = await proc.waitFor(/switchyard listening on (http:\/\/\S+)/);
  return {
    url: gw[1],
    emulatorUrl: emu[1],
    dbPath: ledger[1],
    stateDir,
    proc,
    stop: (opts) => proc.stop(opts),
    cleanup: () => rmSync(stateDir, { recursive: true, force: true }),
  };
}

// `switchyard emulator` on a free port.
export async function startEmulator({ deadlineS = 180, extraArgs = [] } = {}) {
  const proc = startProcess(['emulator', '--listen', '127.0.0.1:0', ...extraArgs],
    { deadlineS, name: 'emulator' });
  const m = await proc.waitFor(/emulator listening on (http:\/\/\S+)/);
  return { url: m[1], proc, stop: (opts) => proc.stop(opts) };
}

// `switchyard serve` on a temporary config file holding `yaml`. Listens on 127.0.0.1:0 unless
// extraArgs say otherwise. Rejects if the process exits before it is listening.
export async function startServe(yaml, { env = {}, extraArgs = ['--listen', '127.0.0.1:0'],
  deadlineS = 180 } = {}) {
  const dir = tempDir('switchyard-serve-');
  const configPath = path.join(dir, 'config.yaml');
  writeFileSync(configPath, yaml);
  const proc = startProcess(['serve', '--config', configPath, ...extraArgs],
    { deadlineS, env: { [DEFAULT_KEY_ENV]: 'sk-test-upstream', ...env }, name: 'serve' });
  const m = await proc.waitFor(/switchyard listening on (http:\/\/\S+)/);
  return {
    url: m[1],
    dir,
    configPath,
    proc,
    stop: (opts) => proc.stop(opts),
    cleanup: () => rmSync(dir, { recursive: true, force: true }),
  };
}

// The emulator refuses requests without an API key; startServe sets this variable by default.
export const DEFAULT_KEY_ENV = 'SWITCHYARD_TEST_UPSTREAM_KEY';

// A serve config for tests: providers pointing at `emulatorUrl`, economy models and the alias.
// `server`, `provider` and `failover` are merged into their sections (flat YAML scalars).
export function testConfigYaml({ emulatorUrl, dbPath, server = {}, provider = {}, timeouts = {},
  failover = {}, apiKeyEnv = DEFAULT_KEY_ENV }) {
  const scalars = (obj, indent) =>
    Object.entries(obj).map(([k, v]) => `${indent}${k}: ${JSON.stringify(v)}`).join('\n');
  const timeoutLine = Object.keys(timeouts).length
    ? `    timeouts: {${Object.entries(timeouts).map(([k, v]) => `${k}: ${v}`).join(', ')}}\n`
    : '';
  const keyLine = apiKeyEnv ? `    api_key_env: ${apiKeyEnv}\n` : '';
  return `server:
${scalars({ listen: '127.0.0.1:0', threads: 2, ...server }, '  ')}
providers:
  upstream:
    kind: openai
    base_url: "${emulatorUrl}/v1"
${keyLine}${timeoutLine}${scalars(provider, '    ')}
models:
  deepseek-v4-flash:
    provider: upstream
    tier: economy
    price: {input: "0.14", cached_input: "0.014", output: "0.28"}
  kimi-k2.6:
    provider: upstream
    price: {input: "0.60", output: "2.50", example: true, note: "example figures"}
  gpt-5.5:
    provider: upstream
    tier: frontier
    price: {input: "5.00", output: "30.00"}
aliases:
  economy: [deepseek-v4-flash, kimi-k2.6, gpt-5.5]
failover:
${scalars({ max_attempts: 4, ...failover }, '  ')}
ledger:
  sqlite_path: ${JSON.stringify(dbPath)}
  flush_interval_ms: 20
`;
}

// ---------------------------------------------------------------------------------------------
// HTTP

// Status, headers, body text and, when the body is JSON, its parsed value.
async function readAnswer(res) {
  const text = await res.text();
  let json;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  return { status: res.status, headers: res.headers, text, json };
}

export async function getJson(url) {
  return readAnswer(await fetch(url));
}

// POST a JSON body (an object, or a string/Buffer sent as is) and read the whole answer.
export async function postJson(url, body, { headers = {} } = {}) {
  const payload = typeof body === 'string' || Buffer.isBuffer(body) ? body : JSON.stringify(body);
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: payload,
  });
  return readAnswer(res);
}

export function chat(baseUrl, body, opts) {
  return postJson(`${baseUrl}/v1/chat/completions`, body, opts);
}

// Anthropic Messages: POST /v1/messages with the anthropic-version header every SDK sends.
export const ANTHROPIC_HEADERS = { 'anthropic-version': '2023-06-01', 'x-api-key': 'sk-ant-test' };

export function messages(baseUrl, body, { headers = {} } = {}) {
  return postJson(`${baseUrl}/v1/messages`, body, { headers: { ...ANTHROPIC_HEADERS, ...headers } });
}

export function streamMessages(baseUrl, body, opts = {}) {
  return streamChat(baseUrl, body, { ...opts, path: '/v1/messages',
    headers: { ...ANTHROPIC_HEADERS, ...opts.headers } });
}

export function userMessage(text = 'Say hello') {
  return [{ role: 'user', content: text }];
}

// A streamed answer over node:http (so HTTP trailers are visible), from /v1/chat/completions
// unless `path` says otherwise. Resolves when the
// response ends or the socket closes: {status, headers, events: [{data, event, json, t}],
// trailers, raw, startedAt, endedAt, aborted}. Times are performance.now() milliseconds.
// `onEvent(event)` is called as each event arrives.
export function streamChat(baseUrl, body,
  { headers = {}, timeoutMs = 60000, onEvent, path = '/v1/chat/completions' } = {}) {
  const url = new URL(`${baseUrl}${path}`);
  const payload = JSON.stringify(body);
  return new Promise((resolve, reject) => {
    const startedAt = performance.now();
    const req = http.request(
      {
        host: url.hostname,
        port: url.port,
        path: url.pathname,
        method: 'POST',
        headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload),
          ...headers },
      },
      (res) => {
        const events = [];
        let raw = '';
        let pending = '';
        let aborted = false;
        res.setEncoding('utf8');
        res.on('data', (d) => {
          const t = performance.now();
          raw += d;
          pending += d;
          let sep;
          while ((sep = pending.search(/\r?\n\r?\n/)) >= 0) {
            const block = pending.slice(0, sep);
            pending = pending.slice(sep + pending.slice(sep).match(/^\r?\n\r?\n/)[0].length);
            const ev = parseSseBlock(block);
            if (ev) {
              events.push({ ...ev, t });
              onEvent?.(events.at(-1));
            }
          }
        });
        res.on('aborted', () => {
          aborted = true;
        });
        const finish = () => {
          clearTimeout(timer);
          resolve({ status: res.statusCode, headers: res.headers, events, trailers: res.trailers,
            raw, startedAt, endedAt: performance.now(), aborted, complete: res.complete });
        };
        res.on('end', finish);
        res.on('error', () => {
          aborted = true;
          finish();
        });
      },
    );
    const timer = setTimeout(() => {
      req.destroy(new Error(`stream did not finish within ${timeoutMs} ms`));
    }, timeoutMs);
    req.on('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
    req.end(payload);
  });
}

function parseSseBlock(block) {
  const dataLines = [];
  let event;
  for (const line of block.split(/\r?\n/)) {
    if (line.startsWith(':') || line === '') continue;
    const colon = line.indexOf(':');
    const field = colon < 0 ? line : line.slice(0, colon);
    let value = colon < 0 ? '' : line.slice(colon + 1);
    if (value.startsWith(' ')) value = value.slice(1);
    if (field === 'data') dataLines.push(value);
    if (field === 'event') event = value;
  }
  if (dataLines.length === 0) return null;
  const data = dataLines.join('\n');
  let json;
  try {
    json = JSON.parse(data);
  } catch {
    json = undefined;
  }
  return { data, event, json };
}

// Content text of streamed chat chunks.
export function streamedText(events) {
  return events
    .map((e) => e.json?.choices?.[0]?.delta?.content ?? '')
    .join('');
}

// ---------------------------------------------------------------------------------------------
// Raw sockets (malformed HTTP, slow clients)

// Opens a TCP connection to baseUrl's host:port, writes `parts` in order (strings or Buffers;
// a number in the list waits that many ms before the next part - for slow-client tests only),
// then collects everything until the server closes or `timeoutMs` passes. Resolves
// {raw: Buffer, closedByServer, error, elapsedMs, response: parseHttpResponse(raw)}.
export function rawExchange(baseUrl, parts, { timeoutMs = 10000, endAfterWrite = false } = {}) {
  const url = new URL(baseUrl);
  return new Promise((resolve) => {
    const started = performance.now();
    const chunks = [];
    let error;
    let closedByServer = false;
    const sock = net.connect({ host: url.hostname, port: Number(url.port) });
    const timer = setTimeout(() => sock.destroy(), timeoutMs);
    sock.on('data', (d) => chunks.push(d));
    sock.on('end', () => {
      closedByServer = true;
      sock.end();
    });
    sock.on('error', (e) => {
      error = e;
    });
    sock.on('close', () => {
      clearTimeout(timer);
      const raw = Buffer.concat(chunks);
      resolve({ raw, closedByServer, error, elapsedMs: performance.now() - started,
        response: parseHttpResponse(raw) });
    });
    sock.on('connect', async () => {
      for (const part of parts) {
        if (typeof part === 'number') {
          await new Promise((r) => setTimeout(r, part));
          continue;
        }
        if (sock.destroyed) return;
        sock.write(part);
      }
      if (endAfterWrite) sock.end();
    });
  });
}

// Parses the first HTTP/1.1 response in `raw` (content-length or chunked). null if none.
export function parseHttpResponse(raw) {
  const text = raw.toString('latin1');
  const headEnd = text.indexOf('\r\n\r\n');
  if (headEnd < 0) return null;
  const lines = text.slice(0, headEnd).split('\r\n');
  const m = lines[0].match(/^HTTP\/1\.[01] (\d{3})/);
  if (!m) return null;
  const headers = {};
  for (const line of lines.slice(1)) {
    const c = line.indexOf(':');
    if (c > 0) headers[line.slice(0, c).trim().toLowerCase()] = line.slice(c + 1).trim();
  }
  let rest = raw.subarray(Buffer.byteLength(text.slice(0, headEnd + 4), 'latin1'));
  let body;
  if (headers['content-length'] !== undefined) {
    body = rest.subarray(0, Number(headers['content-length']));
  } else if (/chunked/i.test(headers['transfer-encoding'] ?? '')) {
    const parts = [];
    let s = rest.toString('latin1');
    for (;;) {
      const nl = s.indexOf('\r\n');
      if (nl < 0) break;
      const size = parseInt(s.slice(0, nl), 16);
      if (!size) break;
      parts.push(s.slice(nl + 2, nl + 2 + size));
      s = s.slice(nl + 2 + size + 2);
    }
    body = Buffer.from(parts.join(''), 'latin1');
  } else {
    body = rest;
  }
  const bodyText = body.toString('utf8');
  let json;
  try {
    json = JSON.parse(bodyText);
  } catch {
    json = undefined;
  }
  return { status: Number(m[1]), headers, body: bodyText, json };
}

// ---------------------------------------------------------------------------------------------
// Emulator control API

async function emuCall(emulatorUrl, method, route, body) {
  const res = await fetch(`${emulatorUrl}${route}`, {
    method,
    headers: body === undefined ? {} : { 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  if (res.status >= 300) {
    throw new Error(`emulator ${method} ${route} -> ${res.status}: ${text}`);
  }
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

export const emulator = {
  addFault: (u, fault) => emuCall(u, 'POST', '/_emulator/faults', fault),
  clearFaults: (u) => emuCall(u, 'DELETE', '/_emulator/faults'),
  clearRequests: (u) => emuCall(u, 'DELETE', '/_emulator/requests'),
  setProfile: (u, model, profile) =>
    emuCall(u, 'PUT', `/_emulator/profiles/${encodeURIComponent(model)}`, profile),
  // The requests the emulator received, oldest first, each normalised to
  // {method, path, headers: {lowercase: value}, body}.
  async requests(u) {
    const got = await emuCall(u, 'GET', '/_emulator/requests');
    const list = Array.isArray(got) ? got : got.requests ?? got.data ?? [];
    return list.map((r) => ({ ...r, headers: normaliseHeaders(r.headers) }));
  },
  async reset(u) {
    await emulator.clearFaults(u);
    await emulator.clearRequests(u);
  },
};

function normaliseHeaders(h) {
  const out = {};
  if (Array.isArray(h)) {
    for (const item of h) {
      const [k, v] = Array.isArray(item) ? item : [item.name, item.value];
      out[String(k).toLowerCase()] = v;
    }
  } else if (h && typeof h === 'object') {
    for (const [k, v] of Object.entries(h)) out[k.toLowerCase()] = v;
  }
  return out;
}

// Chat requests (OpenAI or Anthropic wire) among what the emulator received.
export function modelRequests(requests) {
  return requests.filter((r) => /\/(chat\/completions|messages)$/.test(r.path ?? r.url ?? ''));
}

// ---------------------------------------------------------------------------------------------
// Ledger and money

// Runs `sql` with the sqlite3 CLI in JSON mode; returns the rows ([] when none).
export function sqlite(dbPath, sql) {
  return new Promise((resolve, reject) => {
    execFile('sqlite3', ['-json', dbPath, sql], { timeout: 10000 }, (err, stdout, stderr) => {
      if (err) {
        reject(new Error(`sqlite3 ${dbPath}: ${stderr || err.message}`));
        return;
      }
      resolve(stdout.trim() ? JSON.parse(stdout) : []);
    });
  });
}

// Calls `fn` until it returns a truthy value or `timeoutMs` passes; resolves with the last value.
export async function pollUntil(fn, { timeoutMs = 5000, intervalMs = 25 } = {}) {
  const until = performance.now() + timeoutMs;
  let value;
  for (;;) {
    try {
      value = await fn();
    } catch (e) {
      value = undefined;
      if (performance.now() >= until) throw e;
    }
    if (value || performance.now() >= until) return value;
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}

// Ledger rows for these request ids, waiting (bounded) until all of them were flushed.
export async function ledgerRows(dbPath, requestIds, { timeoutMs = 5000 } = {}) {
  const ids = requestIds.map((id) => `'${String(id).replace(/'/g, "''")}'`).join(',');
  const rows = await pollUntil(async () => {
    const got = await sqlite(dbPath, `SELECT * FROM requests WHERE request_id IN (${ids})`);
    return got.length >= requestIds.length ? got : null;
  }, { timeoutMs });
  return rows ?? (await sqlite(dbPath, `SELECT * FROM requests WHERE request_id IN (${ids})`));
}

export const DECIMAL_RE = /^(0|[1-9]\d*)(\.\d*[1-9])?$/;  // Money::ToString: shortest, no sign

// Exact decimal USD string -> BigInt pico-dollars. Throws on anything but a plain decimal.
export function usdToPico(text) {
  const m = /^(-)?(\d+)(?:\.(\d{1,12}))?$/.exec(String(text));
  if (!m) throw new Error(`not a decimal USD amount: ${JSON.stringify(text)}`);
  const pico = BigInt(m[2]) * 10n ** 12n + BigInt((m[3] ?? '').padEnd(12, '0') || '0');
  return m[1] ? -pico : pico;
}

// BigInt pico-dollars -> "12.35", rounded half away from zero (Money::ToCents).
export function picoToCents(pico) {
  const neg = pico < 0n;
  const abs = neg ? -pico : pico;
  const cents = (abs + 5n * 10n ** 9n) / 10n ** 10n;
  const s = `${cents / 100n}.${String(cents % 100n).padStart(2, '0')}`;
  return neg && cents !== 0n ? `-${s}` : s;
}

// The OpenAI error shape: {"error":{"message","type","param","code"}}.
export function assertOpenAIError(assert, json, { status, param, type } = {}) {
  const where = status ? ` (HTTP ${status})` : '';
  assert.ok(json && typeof json === 'object', `error body is JSON${where}`);
  assert.ok(json.error && typeof json.error === 'object', `body has "error"${where}: ${JSON.stringify(json)}`);
  const e = json.error;
  assert.equal(typeof e.message, 'string', `error.message is a string${where}`);
  assert.ok(e.message.length > 0, `error.message is not empty${where}`);
  assert.equal(typeof e.type, 'string', `error.type is a string${where}`);
  assert.ok('param' in e, `error.param present${where}`);
  assert.ok('code' in e, `error.code present${where}`);
  assert.ok(e.param === null || typeof e.param === 'string', `error.param string|null${where}`);
  assert.ok(e.code === null || typeof e.code === 'string', `error.code string|null${where}`);
  if (param !== undefined) assert.equal(e.param, param, `error.param${where}: ${e.message}`);
  if (type !== undefined) assert.equal(e.type, type, `error.type${where}`);
}

// One demo shared by a describe block: started before its tests (then `onStart(demo)`), stopped
// after them, the emulator's faults and request log cleared before each test.
export function shareDemo(onStart) {
  let demo;
  before(async () => {
    demo = await startDemo();
    await onStart(demo);
  });
  after(async () => {
    if (demo) {
      await demo.stop();
      demo.cleanup();
    }
  });
  beforeEach(async () => {
    await emulator.reset(demo.emulatorUrl);
  });
}

// The last test of a describe that shares a demo: SIGTERM ends it with exit 0 and no sanitizer
// report (leaks, UB) in its stderr.
export function testCleanShutdown(getDemo) {
  test('SIGTERM: exit 0, no sanitizer reports', async () => {
    const demo = getDemo();
    const result = await demo.stop();
    demo.cleanup();
    assert.deepEqual(sanitizerReports(result.stderr), []);
    assert.equal(result.code, 0, result.stderr);
  });
}
