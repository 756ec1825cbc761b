// The canary-key scan (issue 19, "How it is shown"): a gateway run with a canary client key
// (issued by the admin API, then rotated), a canary admin token, a canary metrics token and a
// canary provider key, the access log on stdout (with prompts), through successes, streams,
// errors (unknown keys that look like ours, a wrong admin token, a wrong metrics token, 403, 429,
// upstream errors that echo the provider key), admin calls, feedback and spend. Afterwards none
// of the canaries appears in the gateway's stdout or stderr, any response body or header,
// /metrics, the upstream's view of the requests (the client key and the admin and metrics tokens
// never leave the gateway), or the database files; the database holds only
// HMAC-SHA256(pepper, key) in client_keys.
import assert from 'node:assert/strict';
import { createHmac, randomBytes } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, test } from 'node:test';

import {
  ADMIN_TOKEN_ENV, DEFAULT_KEY_ENV, adminApi, anthropicKey, bearer, chat, emulator, getJson,
  keysConfigYaml, ledgerSettled, messages, requestJson, sanitizerReports, shareServe, sqlite,
  streamChat, streamMessages, userMessage,
} from '../testutil/harness.mjs';

const hex = (n) => randomBytes(n).toString('hex');
const base62 = (n) => {
  const abc = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
  return [...randomBytes(n)].map((b) => abc[b % 62]).join('');
};
const ADMIN = `canary-admin-${hex(16)}`;
const PROVIDER = `sk-canary-provider-${hex(16)}`;
const PEPPER = `canary-pepper-${hex(16)}`;
const WRONG_KEY = `sk-sy-${base62(40)}`;  // looks like ours, is nobody's
const WRONG_ADMIN = `canary-admin-${hex(16)}`;
const METRICS = `canary-metrics-${hex(16)}`;
const WRONG_METRICS = `canary-metrics-${hex(16)}`;
const PROMPT_MARK = `canary-prompt-${hex(6)}`;
const MODELS = ['deepseek-v4-flash', 'kimi-k2.6', 'gpt-5.5', 'faulty'];
const FAULTY = `  faulty:
    provider: upstream
    price: {input: "1.00", output: "2.00"}
`;

// A canary and the fragments a partial leak (a cut or masked value) would still show, taken
// from its random part: a client key's first 12 characters are its public prefix (listings show
// it), and the other canaries start with a fixed label.
function fragments(value, publicPrefix) {
  const secret = value.slice(publicPrefix);
  return [value, secret, secret.slice(0, 16), secret.slice(-12)];
}
const LABEL = (value) => value.lastIndexOf('-') + 1;

describe('canary keys never leak', () => {
  let s;
  let admin;
  let stopResult;
  const canaries = {};  // name -> fragments
  const seen = [];      // {where, text}: every response body and header set seen
  const record = (where, res) => {
    const headers = res.headers.entries ? [...res.headers.entries()] : Object.entries(res.headers);
    seen.push({ where, text: `${JSON.stringify(headers)}\n${JSON.stringify(res.trailers ?? {})}\n${res.text ?? res.raw ?? ''}` });
    return res;
  };
  let clientKey;
  let rotatedKey;

  shareServe((o) => keysConfigYaml({ ...o, models: FAULTY,
    accessLog: { enabled: true, path: '-', log_prompts: true },
    auth: { pepper_env: 'SY_CANARY_PEPPER' } }), async (served) => {
    s = served;
    admin = adminApi(s.url, ADMIN);
    for (const m of MODELS) await emulator.setProfile(s.emulatorUrl, m, { ttft_ms: 1, tokens_per_s: 0 });
  }, { env: { [ADMIN_TOKEN_ENV]: ADMIN, [DEFAULT_KEY_ENV]: PROVIDER, SY_CANARY_PEPPER: PEPPER,
    SWITCHYARD_METRICS_TOKEN: METRICS } });

  function assertAbsent(text, where, names = Object.keys(canaries)) {
    for (const name of names) {
      for (const f of canaries[name]) {
        assert.ok(!text.includes(f), `canary ${name} (or a fragment) found in ${where}`);
      }
    }
  }

  test('a scripted run with canary keys', async () => {
    // Admin calls. The create and rotate answers show the new key once, by design: they are
    // the only bodies not scanned.
    const created = await admin.create({ tenant: 'canary-t', name: 'canary',
      budgets: { usd_per_day: '5.00' }, limits: { requests_per_minute: 600 } });
    clientKey = created.key;
    const rotated = await admin.post(`/admin/keys/${created.id}/rotate`, { grace_seconds: 3600 });
    assert.equal(rotated.status, 200, rotated.text);
    rotatedKey = rotated.json.key;
    const limited = await admin.create({ tenant: 'canary-t', name: 'limited',
      limits: { requests_per_minute: 1 }, allowed_models: ['kimi-k2.6'] });
    canaries.client = fragments(clientKey, 12);
    canaries.rotated = fragments(rotatedKey, 12);
    canaries.limited = fragments(limited.key, 12);
    canaries.wrong = fragments(WRONG_KEY, 12);
    canaries.admin = fragments(ADMIN, LABEL(ADMIN));
    canaries.wrongAdmin = fragments(WRONG_ADMIN, LABEL(WRONG_ADMIN));
    canaries.provider = fragments(PROVIDER, LABEL(PROVIDER));
    canaries.pepper = fragments(PEPPER, LABEL(PEPPER));
    canaries.metrics = fragments(METRICS, LABEL(METRICS));
    canaries.wrongMetrics = fragments(WRONG_METRICS, LABEL(WRONG_METRICS));

    record('GET /admin/keys', await admin.get('/admin/keys'));
    record('GET /admin/keys/id', await admin.get(`/admin/keys/${created.id}`));
    record('PATCH /admin/keys/id', await admin.patch(`/admin/keys/${created.id}`, { name: 'canary-2' }));
    record('PUT /admin/tenants', await admin.put('/admin/tenants/canary-t', { budgets: { usd_per_day: '9.00' } }));
    record('GET /admin/tenants', await admin.get('/admin/tenants'));
    record('admin, wrong token', await adminApi(s.url, WRONG_ADMIN).get('/admin/keys'));
    record('admin, bad input', await admin.post('/admin/keys', { tenant: 'canary-t', budgets: { usd_per_day: '1.2.3' } }));

    // Successes with the old (in its grace) and the new secret, both dialects, streams.
    const ids = [];
    const ok = (where, res) => {
      record(where, res);
      assert.equal(res.status, 200, `${where}: ${res.text ?? res.raw}`);
      ids.push(res.headers.get?.('x-switchyard-request-id') ?? res.headers['x-switchyard-request-id']);
    };
    ok('chat old secret', await chat(s.url, { model: 'gpt-5.5', max_tokens: 16,
      messages: userMessage(`${PROMPT_MARK} summarise`) }, { headers: { ...bearer(clientKey), 'x-switchyard-task-id': 'canary-task' } }));
    ok('chat new secret', await chat(s.url, { model: 'kimi-k2.6', max_tokens: 16,
      messages: userMessage(`${PROMPT_MARK} again`) }, { headers: bearer(rotatedKey) }));
    ok('messages', await messages(s.url, { model: 'deepseek-v4-flash', max_tokens: 16,
      messages: userMessage(PROMPT_MARK) }, { headers: anthropicKey(rotatedKey) }));
    ok('stream', await streamChat(s.url, { model: 'gpt-5.5', max_tokens: 16, stream: true,
      stream_options: { include_usage: true }, messages: userMessage(PROMPT_MARK) }, { headers: bearer(rotatedKey) }));
    ok('messages stream', await streamMessages(s.url, { model: 'kimi-k2.6', max_tokens: 16, stream: true,
      messages: userMessage(PROMPT_MARK) }, { headers: anthropicKey(clientKey) }));

    // Errors: unknown keys that look like ours, 403, 429.
    record('401 bearer', await chat(s.url, { model: 'gpt-5.5', messages: userMessage('x') }, { headers: bearer(WRONG_KEY) }));
    record('401 x-api-key', await messages(s.url, { model: 'gpt-5.5', max_tokens: 8, messages: userMessage('x') },
      { headers: anthropicKey(WRONG_KEY) }));
    record('401 both', await chat(s.url, { model: 'gpt-5.5', messages: userMessage('x') },
      { headers: { authorization: `Bearer ${WRONG_KEY}`, 'x-api-key': WRONG_KEY } }));
    record('403', await chat(s.url, { model: 'gpt-5.5', messages: userMessage('x') }, { headers: bearer(limited.key) }));
    record('200 limited', await chat(s.url, { model: 'kimi-k2.6', max_tokens: 8, messages: userMessage('x') }, { headers: bearer(limited.key) }));
    record('429', await chat(s.url, { model: 'kimi-k2.6', max_tokens: 8, messages: userMessage('x') }, { headers: bearer(limited.key) }));

    // Upstream errors whose text echoes the provider key (plain and streamed), on a model of
    // their own so its breaker opening leaves the others alone.
    for (const status of [400, 401, 500, 503]) {
      await emulator.addFault(s.emulatorUrl, { model: 'faulty', status, count: 8,
        message: `Incorrect API key provided: ${PROVIDER}.` });
      record(`upstream ${status}`, await chat(s.url, { model: 'faulty', max_tokens: 8, messages: userMessage('x') },
        { headers: bearer(rotatedKey) }));
      record(`upstream ${status} stream`, await streamChat(s.url, { model: 'faulty', max_tokens: 8, stream: true,
        messages: userMessage('x') }, { headers: bearer(rotatedKey) }));
      await emulator.clearFaults(s.emulatorUrl);
    }

    // Feedback, spend, outcomes, metrics.
    record('feedback', await requestJson(`${s.url}/v1/feedback`, { method: 'POST', headers: bearer(rotatedKey),
      body: { request_id: ids[0], outcome: 'success', comment: 'fine' } }));
    record('feedback task', await requestJson(`${s.url}/v1/feedback`, { method: 'POST', headers: bearer(clientKey),
      body: { task_id: 'canary-task', outcome: 'failure' } }));
    record('/v1/spend', await requestJson(`${s.url}/v1/spend?by=key`, { headers: bearer(rotatedKey) }));
    record('/v1/outcomes', await requestJson(`${s.url}/v1/outcomes?by=model`, { headers: bearer(rotatedKey) }));
    record('/admin/spend', await admin.get('/admin/spend?by=key&baseline=gpt-5.5'));
    record('/admin/outcomes', await admin.get('/admin/outcomes?by=rule'));
    record('revoke', await admin.del(`/admin/keys/${limited.id}`));
    record('401 revoked', await chat(s.url, { model: 'kimi-k2.6', messages: userMessage('x') }, { headers: bearer(limited.key) }));
    await ledgerSettled(s.dbPath, { atLeast: ids.length });
    record('/metrics, no token', await getJson(`${s.url}/metrics`));
    record('/metrics, wrong token', await requestJson(`${s.url}/metrics`, { headers: bearer(WRONG_METRICS) }));
    const metrics = await requestJson(`${s.url}/metrics`, { headers: bearer(METRICS) });
    assert.equal(metrics.status, 200);
    record('/metrics', metrics);
  });

  test('no canary in any response body or header, nor in /metrics', () => {
    assert.ok(seen.length >= 30, `responses recorded: ${seen.length}`);
    for (const { where, text } of seen) assertAbsent(text, where);
  });

  test('the upstream saw the provider key only; never a client key or the admin token', async () => {
    // The emulator's log was cleared before this test: send one request to look at.
    const res = await chat(s.url, { model: 'gpt-5.5', max_tokens: 8, messages: userMessage('x') },
      { headers: bearer(rotatedKey) });
    assert.equal(res.status, 200, res.text);
    const requests = await emulator.requests(s.emulatorUrl);
    assert.ok(requests.length >= 1);
    const text = JSON.stringify(requests);
    assertAbsent(text, 'the upstream\'s requests', ['client', 'rotated', 'limited', 'admin', 'pepper', 'metrics']);
    assert.ok(text.includes(PROVIDER), 'the upstream got the provider key');
  });

  test('the database: no canary in its files; client_keys holds HMAC-SHA256(pepper, key)', async () => {
    await ledgerSettled(s.dbPath);
    const scan = (when) => {
      let files = 0;
      for (const suffix of ['', '-wal', '-shm', '-journal']) {
        const p = s.dbPath + suffix;
        if (!existsSync(p)) continue;
        ++files;
        const bytes = readFileSync(p);
        for (const [name, frags] of Object.entries(canaries)) {
          for (const f of frags) {
            assert.equal(bytes.indexOf(Buffer.from(f)), -1, `canary ${name} in ${path.basename(p)} (${when})`);
          }
        }
      }
      assert.ok(files >= 1, 'the database exists');
    };
    scan('running');
    const cols = (await sqlite(s.dbPath, 'PRAGMA table_info(client_keys)')).map((c) => c.name);
    assert.ok(cols.length > 0, 'a client_keys table');
    const rows = await sqlite(s.dbPath, `SELECT ${cols.map((c) => `hex(${c}) AS ${c}`).join(', ')} FROM client_keys`);
    const cells = new Set(rows.flatMap((r) => Object.values(r).map((v) => String(v).toUpperCase())));
    // Stored as 32 raw bytes or as 64 hex characters: look for either.
    for (const [name, key] of [['rotated', rotatedKey], ['client (in its grace)', clientKey]]) {
      const mac = createHmac('sha256', PEPPER).update(key).digest();
      const asHexText = Buffer.from(mac.toString('hex')).toString('hex').toUpperCase();
      assert.ok(cells.has(mac.toString('hex').toUpperCase()) || cells.has(asHexText),
        `HMAC-SHA256(pepper, ${name} key) is in client_keys`);
    }
  });

  test('SIGTERM: exit 0, clean; no canary in stdout or stderr; the access log is JSON with prompts', async () => {
    stopResult = await s.stop();
    assert.deepEqual(sanitizerReports(stopResult.stderr), []);
    assert.equal(stopResult.code, 0, stopResult.stderr);
    assertAbsent(stopResult.stdout, 'stdout');
    assertAbsent(stopResult.stderr, 'stderr');
    // The files after the final checkpoint.
    for (const suffix of ['', '-wal', '-shm']) {
      const p = s.dbPath + suffix;
      if (!existsSync(p)) continue;
      const bytes = readFileSync(p);
      for (const [name, frags] of Object.entries(canaries)) {
        for (const f of frags) assert.equal(bytes.indexOf(Buffer.from(f)), -1, `canary ${name} in ${path.basename(p)} after stop`);
      }
    }
    const lines = stopResult.stdout.split('\n').filter((l) => l.startsWith('{'));
    assert.ok(lines.length >= 20, `access log lines on stdout: ${lines.length}`);
    const entries = lines.map((l) => JSON.parse(l));
    for (const e of entries) {
      assert.ok(Number.isInteger(e.ts_ms ?? e.ts), `a time (ts_ms, or spec19's ts) in ${JSON.stringify(e)}`);
      for (const field of ['request_id', 'tenant', 'key_id', 'status', 'latency_ms', 'cost_usd']) {
        assert.ok(field in e, `${field} in ${JSON.stringify(e)}`);
      }
    }
    const withPrompt = entries.filter((e) => typeof e.prompt === 'string' && e.prompt.includes(PROMPT_MARK));
    assert.ok(withPrompt.length >= 5, `log_prompts: the prompt is logged (${withPrompt.length})`);
    s.cleanup();
  });
});
