// Shared helpers for the process-level tests (tests/integration, tests/clients).
//
// Every process started here has a hard deadline: it is SIGKILLed when the deadline passes, when
// stop() gives up waiting, and when the test process itself exits. Nothing here sleeps to
// synchronise: waits are on process output, on sockets, or bounded polls (pollUntil).
//
// Node 18+ built-ins only. The binary is $SWITCHYARD_BIN, default build/switchyard under the repo.
import { spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import assert from 'node:assert/strict';
import { after, before, beforeEach, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { sqlite } from './ledger.mjs';

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
      // Before the watchers run, so a waitFor rejects now instead of at its timeout.
      done = true;
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
  // `serve` requires client keys by default; suites that do not test keys run without them.
  writeFileSync(configPath, /^auth:/m.test(yaml) ? yaml : `${yaml}\nauth: {mode: "off"}\n`);
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

// A `serve` gateway in front of its own emulator for one test: `options` go to testConfigYaml
// (server, timeouts, failover, ...). When the test ends both stop, the gateway with exit 0 and
// no sanitizer report. Returns {gw, emu, dbPath}.
export async function freshServe(t, options = {}) {
  const emu = await startEmulator();
  const dir = tempDir();
  const dbPath = path.join(dir, 'ledger.db');
  let gw;
  t.after(async () => {
    const result = await gw?.stop();
    await emu.stop();
    rmSync(dir, { recursive: true, force: true });
    if (result) {
      assert.deepEqual(sanitizerReports(result.stderr), []);
      assert.equal(result.code, 0, result.stderr);
    }
  });
  gw = await startServe(testConfigYaml({ emulatorUrl: emu.url, dbPath, ...options }));
  return { gw, emu, dbPath };
}

// An emulator and a `serve` gateway in front of it, on a config a suite writes itself:
// `yamlFor({emulatorUrl, dbPath})` returns the YAML (providers should point at emulatorUrl with
// api_key_env DEFAULT_KEY_ENV). Returns the shape startDemo returns: {url, emulatorUrl, dbPath,
// stop, cleanup}; stop() stops the gateway (its result) and then the emulator.
export async function startServeWithEmulator(yamlFor, { deadlineS = 180, env = {} } = {}) {
  const emu = await startEmulator({ deadlineS });
  const dir = tempDir();
  const dbPath = path.join(dir, 'ledger.db');
  let gw;
  try {
    gw = await startServe(yamlFor({ emulatorUrl: emu.url, dbPath, dir }), { deadlineS, env });
  } catch (e) {
    await emu.stop();
    rmSync(dir, { recursive: true, force: true });
    throw e;
  }
  return {
    url: gw.url,
    emulatorUrl: emu.url,
    dbPath,
    gw,
    emu,
    async stop(opts) {
      const result = await gw.stop(opts);
      await emu.stop();
      return result;
    },
    cleanup() {
      gw.cleanup();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

// One startServeWithEmulator shared by a describe block, like shareDemo: started before its
// tests (then `onStart(served)`), stopped after them, the emulator's faults and request log
// cleared before each test. End the block with testCleanShutdown. `options` go to
// startServeWithEmulator (env: the gateway's environment, e.g. its admin token).
export function shareServe(yamlFor, onStart, options = {}) {
  let served;
  before(async () => {
    served = await startServeWithEmulator(yamlFor, options);
    await onStart(served);
  });
  after(async () => {
    if (served) {
      await served.stop();
      served.cleanup();
    }
  });
  beforeEach(async () => {
    await emulator.reset(served.emulatorUrl);
  });
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

// Generation requests (OpenAI Chat, Anthropic Messages or OpenAI Responses wire) among what the
// emulator received.
export function modelRequests(requests) {
  return requests.filter((r) => /\/(chat\/completions|messages|responses)$/.test(r.path ?? r.url ?? ''));
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

// ---------------------------------------------------------------------------------------------
// Client keys, tenants, metrics (issue 19)

export const ADMIN_TOKEN_ENV = 'SWITCHYARD_ADMIN_TOKEN';
export const CLIENT_KEY_RE = /^sk-sy-[A-Za-z0-9]{40}$/;
export const KEY_ID_RE = /^key_[A-Za-z0-9]{16}$/;

// A serve config with client keys on: testConfigYaml's providers and models (plus `models`,
// extra YAML lines under models:), a routing profile `auto` (chain deepseek-v4-flash, kimi-k2.6)
// and `auto:cheap` (deepseek-v4-flash only), and the sections of issue 19: `auth`, `accessLog`
// and `metrics` are merged into theirs (flat YAML scalars).
export function keysConfigYaml({ emulatorUrl, dbPath, auth = {}, accessLog = {}, metrics = {},
  models = '', providers = '', server = {}, failover = {} }) {
  const scalars = (obj) => Object.entries(obj).map(([k, v]) => `  ${k}: ${JSON.stringify(v)}`).join('\n');
  const base = testConfigYaml({ emulatorUrl, dbPath, server, failover })
    .replace('\nmodels:\n', `\n${providers}models:\n${models}`);
  return `${base}routing:
  profiles:
    auto:
      rules:
        - name: default
          chain: [deepseek-v4-flash, kimi-k2.6]
    cheap:
      rules:
        - name: cheapest
          chain: [deepseek-v4-flash]
auth:
${scalars({ mode: 'keys', ...auth })}
access_log:
${scalars({ enabled: false, ...accessLog })}
metrics:
${scalars({ enabled: true, ...metrics })}
`;
}

// Exact BigInt pico-dollars -> the shortest decimal USD text (Money::ToString: "0.0012", "0",
// "-0.5").
export function picoToUsd(pico) {
  const neg = pico < 0n;
  const abs = neg ? -pico : pico;
  const whole = abs / 10n ** 12n;
  const frac = String(abs % 10n ** 12n).padStart(12, '0').replace(/0+$/, '');
  return `${neg ? '-' : ''}${whole}${frac ? `.${frac}` : ''}`;
}

// A sample value of the exposition format ("0.0012", "1.2e-05", "3") -> BigInt units of
// 10^-scale, rounded half up (so float noise far below one unit disappears).
export function decimalToUnits(text, scale = 12) {
  const m = /^(-)?(\d+)(?:\.(\d+))?(?:[eE]([+-]?\d+))?$/.exec(String(text).trim());
  if (!m) throw new Error(`not a decimal sample value: ${JSON.stringify(text)}`);
  const digits = BigInt(`${m[2]}${m[3] ?? ''}`);
  const shift = scale - (m[3] ?? '').length + Number(m[4] ?? 0);
  let units;
  if (shift >= 0) {
    units = digits * 10n ** BigInt(shift);
  } else {
    const div = 10n ** BigInt(-shift);
    units = (digits + div / 2n) / div;
  }
  return m[1] ? -units : units;
}

// Prometheus text format 0.0.4 -> {samples: [{name, labels, value}], types: {family: type},
// help: {family: text}}. Enough of the grammar for our own output; promtool judges the rest.
export function parseMetrics(text) {
  const samples = [];
  const types = {};
  const help = {};
  for (const line of text.split('\n')) {
    if (line === '') continue;
    let m = /^# (HELP|TYPE) (\S+) (.*)$/.exec(line);
    if (m) {
      (m[1] === 'TYPE' ? types : help)[m[2]] = m[3];
      continue;
    }
    if (line.startsWith('#')) continue;
    m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})? (\S+)( \d+)?$/.exec(line);
    if (!m) throw new Error(`not an exposition line: ${JSON.stringify(line)}`);
    const labels = {};
    const re = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)",?/g;
    let l;
    while ((l = re.exec(m[3] ?? '')) !== null) labels[l[1]] = l[2].replace(/\\(.)/g, (_, c) => (c === 'n' ? '\n' : c));
    samples.push({ name: m[1], labels, value: m[4] });
  }
  return { samples, types, help };
}

// The sum of every sample named `name` whose labels pass `filter`, in 10^-scale units (BigInt).
export function sumSamples(parsed, name, { filter = () => true, scale = 0 } = {}) {
  return parsed.samples.filter((s) => s.name === name && filter(s.labels))
    .reduce((a, s) => a + decimalToUnits(s.value, scale), 0n);
}

// Runs `promtool check metrics` on `text`: {code, stdout, stderr}. Throws when promtool is not
// installed (the Debian package `prometheus` provides it: scripts/install-deps.sh).
export function promtoolCheck(text, { timeoutMs = 20000 } = {}) {
  return new Promise((resolve, reject) => {
    const child = spawn('promtool', ['check', 'metrics'], { stdio: ['pipe', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.stdout.on('data', (d) => { out += d; });
    child.stderr.on('data', (d) => { err += d; });
    child.on('error', (e) => {
      clearTimeout(timer);
      reject(new Error(`promtool not runnable (install the Debian package prometheus): ${e.message}`));
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout: out, stderr: err });
    });
    child.stdin.end(text);
  });
}

// Waits (bounded) until the ledger's request count stops changing for `quietMs`; resolves the
// count. The gateway writes rows in the background (flush_interval_ms).
export async function ledgerSettled(dbPath, { atLeast = 0, quietMs = 300, timeoutMs = 10000 } = {}) {
  const until = performance.now() + timeoutMs;
  let last = -1;
  let since = performance.now();
  for (;;) {
    const [{ n }] = await sqlite(dbPath, 'SELECT COUNT(*) AS n FROM requests');
    if (n !== last) {
      last = n;
      since = performance.now();
    } else if (n >= atLeast && performance.now() - since >= quietMs) {
      return n;
    }
    if (performance.now() >= until) return n;
    await new Promise((r) => setTimeout(r, 50));
  }
}

export * from './http.mjs';
export * from './ledger.mjs';
