// GET /metrics (issue 19): after a scripted run (successes, a failover through an emulator
// fault, a 401, a 429, streams in both dialects) the exposition passes Prometheus's own
// `promtool check metrics`, and its counters equal the ledger's totals: requests, exact cost,
// tokens. Labels carry no request id, key or key id; every family is in docs/metrics.md.
// One gateway (`serve`, keys on, a metrics token) in front of one emulator: every scrape sends
// the token, as Prometheus's `authorization: {credentials_file: ...}` does, and a scrape without
// it, or with a wrong one, is refused (GET and HEAD). A second gateway, keys on without a metrics
// token, serves /metrics openly, as before, and warns once at start.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, test } from 'node:test';

import {
  ADMIN_TOKEN_ENV, REPO_ROOT, adminApi, anthropicKey, bearer, chat, emulator, getJson,
  keysConfigYaml, ledgerSettled, messages, parseMetrics, promtoolCheck, requestJson,
  sanitizerReports, shareServe, sqlite, streamChat, streamMessages, sumSamples, userMessage,
} from '../testutil/harness.mjs';

const ADMIN = `admin-${randomBytes(16).toString('hex')}`;
const METRICS_TOKEN = `metrics-${randomBytes(16).toString('hex')}`;
const METRICS_TOKEN_ENV = 'SWITCHYARD_METRICS_TOKEN';
const OPEN_WARNING = 'switchyard: warning: GET /metrics is open to anyone who can reach the port';
const MODELS = ['deepseek-v4-flash', 'kimi-k2.6', 'gpt-5.5'];

const ping = (model, text = 'ping') => ({ model, max_tokens: 24, messages: userMessage(text) });

describe('/metrics against the ledger', () => {
  let s;
  let admin;
  const requestIds = [];
  const keyIds = [];
  const keys = [];
  shareServe((o) => keysConfigYaml({ ...o, failover: { retries_per_deployment: 0 } }),
    async (served) => {
      s = served;
      admin = adminApi(s.url, ADMIN);
      for (const m of MODELS) await emulator.setProfile(s.emulatorUrl, m, { ttft_ms: 1, tokens_per_s: 0 });
    }, { env: { [ADMIN_TOKEN_ENV]: ADMIN, [METRICS_TOKEN_ENV]: METRICS_TOKEN } });

  async function scrape() {
    const res = await requestJson(`${s.url}/metrics`, { headers: bearer(METRICS_TOKEN) });
    assert.equal(res.status, 200, res.text);
    assert.match(res.headers.get('content-type') ?? '', /^text\/plain; version=0\.0\.4/);
    return res.text;
  }

  async function ledgerTotals() {
    const [row] = await sqlite(s.dbPath, `SELECT COUNT(*) AS n, CAST(COALESCE(SUM(cost_pico), 0) AS TEXT) AS pico,
      COALESCE(SUM(input_tokens), 0) AS input, COALESCE(SUM(output_tokens), 0) AS output FROM requests`);
    return { n: row.n, pico: BigInt(row.pico), input: BigInt(row.input), output: BigInt(row.output) };
  }

  // Token counters: switchyard_tokens_total{kind="input"|"output"} (docs/metrics.md).
  const tokens = (parsed, kind) => sumSamples(parsed, 'switchyard_tokens_total',
    { filter: (l) => l.kind === kind });

  test('a scripted run: successes, failover, 401, 429, streams', async () => {
    const k = await admin.create({ tenant: 'metrics-team', name: 'main' });
    const slow = await admin.create({ tenant: 'metrics-team', name: 'slow', limits: { requests_per_minute: 1 } });
    keys.push(k.key, slow.key);
    keyIds.push(k.id, slow.id);
    const note = (res) => {
      const id = res.headers.get?.('x-switchyard-request-id') ?? res.headers['x-switchyard-request-id'];
      if (id) requestIds.push(id);
      return res;
    };
    for (const m of MODELS) assert.equal(note(await chat(s.url, ping(m), { headers: bearer(k.key) })).status, 200);
    assert.equal(note(await messages(s.url, ping('gpt-5.5'), { headers: anthropicKey(k.key) })).status, 200);
    // Failover: the economy alias's first model fails once, the next answers.
    await emulator.addFault(s.emulatorUrl, { model: 'deepseek-v4-flash', status: 500, count: 1 });
    const fo = note(await chat(s.url, ping('economy'), { headers: bearer(k.key) }));
    assert.equal(fo.status, 200, fo.text);
    assert.equal(fo.headers.get('x-switchyard-attempts'), '2');
    // Every model failing: a 502 that still cost nothing.
    await emulator.addFault(s.emulatorUrl, { model: '*', status: 503, count: 20 });
    assert.equal(note(await chat(s.url, ping('economy'), { headers: bearer(k.key) })).status, 502);
    await emulator.clearFaults(s.emulatorUrl);
    // 401 and 429.
    assert.equal(note(await chat(s.url, ping('gpt-5.5'))).status, 401);
    assert.equal(note(await chat(s.url, ping('gpt-5.5'), { headers: bearer('sk-sy-unknown') })).status, 401);
    assert.equal(note(await chat(s.url, ping('kimi-k2.6'), { headers: bearer(slow.key) })).status, 200);
    assert.equal(note(await chat(s.url, ping('kimi-k2.6'), { headers: bearer(slow.key) })).status, 429);
    // Streams, both dialects.
    const st = note(await streamChat(s.url, { ...ping('kimi-k2.6'), stream: true,
      stream_options: { include_usage: true } }, { headers: bearer(k.key) }));
    assert.equal(st.status, 200, st.raw);
    const sm = note(await streamMessages(s.url, { ...ping('deepseek-v4-flash'), stream: true },
      { headers: anthropicKey(k.key) }));
    assert.equal(sm.status, 200, sm.raw);
    // An unknown model: a 404 before routing.
    assert.equal(note(await chat(s.url, ping('no-such-model'), { headers: bearer(k.key) })).status, 404);
  });

  test('promtool check metrics accepts the exposition', async () => {
    const text = await scrape();
    const result = await promtoolCheck(text);
    assert.equal(result.code, 0, `promtool check metrics:\n${result.stdout}${result.stderr}`);
    // Plain text, every family typed.
    const parsed = parseMetrics(text);
    assert.ok(parsed.samples.length > 0);
    for (const sample of parsed.samples) {
      assert.ok(sample.name.startsWith('switchyard_'), sample.name);
    }
  });

  test('counters equal the ledger: requests, exact cost, tokens', async () => {
    const n = await ledgerSettled(s.dbPath, { atLeast: requestIds.length });
    const ledger = await ledgerTotals();
    assert.equal(ledger.n, n);
    assert.ok(ledger.pico > 0n && ledger.input > 0n && ledger.output > 0n);
    const parsed = parseMetrics(await scrape());
    assert.equal(parsed.types.switchyard_requests_total, 'counter');
    assert.equal(sumSamples(parsed, 'switchyard_requests_total'), BigInt(ledger.n),
      `switchyard_requests_total vs ${ledger.n} ledger rows`);
    // Status labels partition the requests as the ledger's status column does.
    const byStatus = await sqlite(s.dbPath, 'SELECT status, COUNT(*) AS n FROM requests GROUP BY status');
    for (const { status, n: count } of byStatus) {
      assert.equal(sumSamples(parsed, 'switchyard_requests_total', { filter: (l) => l.status === String(status) }),
        BigInt(count), `requests with status ${status}`);
    }
    assert.equal(sumSamples(parsed, 'switchyard_cost_usd_total', { scale: 12 }), ledger.pico,
      'switchyard_cost_usd_total equals SUM(cost_pico), to the pico-dollar');
    assert.equal(tokens(parsed, 'input'), ledger.input, 'input tokens');
    assert.equal(tokens(parsed, 'output'), ledger.output, 'output tokens');
    // The script's refusals: one missing key, one unknown key, one 429 of requests per minute.
    const count = (name, filter) => sumSamples(parsed, name, { filter });
    assert.equal(count('switchyard_auth_failures_total', (l) => l.reason === 'missing'), 1n);
    assert.equal(count('switchyard_auth_failures_total', (l) => l.reason === 'invalid'), 1n);
    assert.equal(count('switchyard_limited_total', (l) => l.limit === 'requests' && l.tenant === 'metrics-team'), 1n);
    // The failover: deepseek-v4-flash's one failed attempt, then kimi-k2.6's success.
    assert.ok(count('switchyard_attempts_total', (l) => l.model === 'deepseek-v4-flash' && l.outcome === 'failed') >= 1n);
    // Cost per tenant: everything billed was billed to the one tenant.
    assert.equal(sumSamples(parsed, 'switchyard_cost_usd_total', { scale: 12, filter: (l) => l.tenant === 'metrics-team' }),
      ledger.pico);

    // One more request moves each counter by exactly its own figures.
    const k = keys[0];
    const res = await chat(s.url, ping('gpt-5.5', 'one more'), { headers: bearer(k) });
    assert.equal(res.status, 200, res.text);
    requestIds.push(res.headers.get('x-switchyard-request-id'));
    await ledgerSettled(s.dbPath, { atLeast: ledger.n + 1 });
    const after = parseMetrics(await scrape());
    const now = await ledgerTotals();
    assert.equal(now.n, ledger.n + 1);
    assert.equal(sumSamples(after, 'switchyard_requests_total'), BigInt(now.n));
    assert.equal(sumSamples(after, 'switchyard_cost_usd_total', { scale: 12 }), now.pico);
    assert.equal(tokens(after, 'output'), now.output);
  });

  test('the metrics token guards the exposition: GET and HEAD', async () => {
    const refused = [
      ['no token', {}],
      ['a wrong token', bearer(`metrics-${randomBytes(16).toString('hex')}`)],
      ['the token without its scheme', { authorization: METRICS_TOKEN }],
      ['a client key', bearer(keys[0])],
    ];
    for (const method of ['GET', 'HEAD']) {
      for (const [what, headers] of refused) {
        const res = await requestJson(`${s.url}/metrics`, { method, headers });
        assert.equal(res.status, 401, `${method} with ${what}: ${res.text}`);
        assert.equal(res.headers.get('www-authenticate'), 'Bearer', `${method} with ${what}`);
        assert.ok(!res.text.includes('switchyard_'), `${method} with ${what} shows no metric`);
        assert.ok(!res.text.includes(METRICS_TOKEN) && !res.text.includes(ADMIN), 'no token echoed');
      }
      for (const [what, token] of [['the metrics token', METRICS_TOKEN], ['the admin token', ADMIN]]) {
        const res = await requestJson(`${s.url}/metrics`, { method, headers: bearer(token) });
        assert.equal(res.status, 200, `${method} with ${what}: ${res.text}`);
        assert.match(res.headers.get('content-type') ?? '', /^text\/plain; version=0\.0\.4/);
        if (method === 'GET') assert.match(res.text, /^# HELP switchyard_/m);
        else assert.equal(res.text, '', 'HEAD has no body');
      }
    }
    // Health and readiness stay open: load balancers probe them without a token.
    assert.equal((await getJson(`${s.url}/healthz`)).status, 200);
  });

  test('labels carry no request id, key or key id; every family is documented', async () => {
    const text = await scrape();
    for (const id of requestIds) assert.ok(!text.includes(id), `request id ${id} in /metrics`);
    for (const id of keyIds) assert.ok(!text.includes(id), `key id ${id} in /metrics`);
    for (const key of keys) assert.ok(!text.includes(key.slice(6)), 'a client key in /metrics');
    assert.ok(!text.includes('sk-sy-'), 'a key prefix in /metrics');
    assert.ok(!text.includes(ADMIN), 'the admin token in /metrics');
    assert.ok(!text.includes(METRICS_TOKEN), 'the metrics token in /metrics');
    const parsed = parseMetrics(text);
    const doc = readFileSync(path.join(REPO_ROOT, 'docs', 'metrics.md'), 'utf8');
    const undocumented = Object.keys(parsed.types).filter((family) => !doc.includes(family));
    assert.deepEqual(undocumented, [], 'families missing from docs/metrics.md');
    // A tenant label, when present, is the tenant's name, never a key's.
    for (const sample of parsed.samples) {
      for (const v of Object.values(sample.labels)) assert.doesNotMatch(v, /^key_[A-Za-z0-9]{16}$/);
    }
  });

  test('SIGTERM: exit 0, no sanitizer reports; the token is never logged; no open-metrics warning', async () => {
    const result = await s.stop();
    s.cleanup();
    assert.deepEqual(sanitizerReports(result.stderr), []);
    assert.equal(result.code, 0, result.stderr);
    for (const out of [result.stdout, result.stderr]) {
      assert.ok(!out.includes(METRICS_TOKEN.slice(8)), 'the metrics token in the output');
    }
    assert.ok(!result.stderr.includes(OPEN_WARNING), result.stderr);
  });
});

describe('/metrics without a token, keys on', () => {
  let s;
  shareServe((o) => keysConfigYaml(o), async (served) => { s = served; });

  test('is open, as before, and the start warns once', async () => {
    const res = await getJson(`${s.url}/metrics`);
    assert.equal(res.status, 200, res.text);
    const result = await s.stop();
    s.cleanup();
    assert.equal(result.code, 0, result.stderr);
    assert.equal(result.stderr.split(OPEN_WARNING).length - 1, 1, result.stderr);
    assert.match(result.stderr, /set SWITCHYARD_METRICS_TOKEN \(metrics\.token_env\)/);
  });
});
