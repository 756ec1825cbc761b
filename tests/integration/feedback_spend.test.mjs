// Spend queries, feedback and the access log (issue 19): GET /admin/spend by key, tenant,
// provider and hour with from/to and baseline=gpt-5.5, every figure compared as an exact string
// with a hand computation from the emulator's usage; bad queries and bad feedback bodies are 400s
// naming the field; unknown (or another tenant's) requests are 404s; the access log is one JSON
// line per request, without prompt text. One gateway (`serve`, keys on, access log to a file) in
// front of one emulator for the file.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, test } from 'node:test';

import {
  ADMIN_TOKEN_ENV, DEFAULT_KEY_ENV, adminApi, anthropicKey, assertOpenAIError, bearer, chat,
  emulator, keysConfigYaml, ledgerRows, messages, picoToUsd, requestJson, shareServe,
  testCleanShutdown, usdToPico, userMessage,
} from '../testutil/harness.mjs';

const ADMIN = `admin-${randomBytes(16).toString('hex')}`;
const PROMPT_MARK = `secret-prompt-${randomBytes(6).toString('hex')}`;
// gpt-5.5's list (testConfigYaml): $5 input, $30 output per million tokens = pico per token.
const BASELINE_PICO = { input: 5_000_000n, output: 30_000_000n };

// A second provider on the same emulator, with its own model, so by=provider has two groups.
const secondProvider = (emulatorUrl) => `  second:
    kind: openai
    base_url: "${emulatorUrl}/v1"
    api_key_env: ${DEFAULT_KEY_ENV}
`;
const GLM = `  glm-5:
    provider: second
    price: {input: "1.00", output: "3.20"}
`;

const sum = (list, f) => list.reduce((a, x) => a + f(x), 0n);

describe('spend, feedback and the access log', () => {
  let s;
  let admin;
  let accessLogPath;
  let t0;
  const sent = [];  // {id, keyId, tenant, provider, model, input, output, pico}
  const keys = {};

  shareServe((o) => {
    accessLogPath = path.join(o.dir, 'access.log');
    return keysConfigYaml({ ...o, providers: secondProvider(o.emulatorUrl), models: GLM,
      accessLog: { enabled: true, path: accessLogPath, log_prompts: false } });
  }, async (served) => {
    s = served;
    admin = adminApi(s.url, ADMIN);
    for (const m of ['deepseek-v4-flash', 'kimi-k2.6', 'gpt-5.5', 'glm-5']) {
      await emulator.setProfile(s.emulatorUrl, m, { ttft_ms: 1, tokens_per_s: 0 });
    }
  }, { env: { [ADMIN_TOKEN_ENV]: ADMIN } });

  // One request, its usage read from the answer the client got (both dialects).
  async function send(keyName, model, { anthropic = false, maxTokens = 40 } = {}) {
    const k = keys[keyName];
    const body = { model, max_tokens: maxTokens, messages: userMessage(`${PROMPT_MARK}: tell me about ${model}`) };
    const res = anthropic
      ? await messages(s.url, body, { headers: anthropicKey(k.key) })
      : await chat(s.url, body, { headers: bearer(k.key) });
    assert.equal(res.status, 200, res.text);
    const u = res.json.usage;
    const input = anthropic
      ? u.input_tokens + (u.cache_read_input_tokens ?? 0) + (u.cache_creation_input_tokens ?? 0)
      : u.prompt_tokens;
    const output = anthropic ? u.output_tokens : u.completion_tokens;
    const entry = { id: res.headers.get('x-switchyard-request-id'), keyId: k.id, tenant: k.tenant,
      provider: res.headers.get('x-switchyard-provider'), model, input: BigInt(input),
      output: BigInt(output), pico: usdToPico(res.headers.get('x-switchyard-cost-usd')) };
    sent.push(entry);
    return entry;
  }

  const baseline = (e) => e.input * BASELINE_PICO.input + e.output * BASELINE_PICO.output;

  // The exact figures a group of `list` must show.
  function expectGroup(group, list, where) {
    assert.ok(group, `${where}: a group`);
    const cost = sum(list, (e) => e.pico);
    const base = sum(list, baseline);
    assert.equal(group.requests, list.length, `${where}: requests`);
    assert.equal(group.cost_usd, picoToUsd(cost), `${where}: cost_usd`);
    assert.equal(group.baseline_cost_usd, picoToUsd(base), `${where}: baseline_cost_usd`);
    assert.equal(group.savings_usd, picoToUsd(base - cost), `${where}: savings_usd`);
    assert.equal(BigInt(group.input_tokens), sum(list, (e) => e.input), `${where}: input_tokens`);
    assert.equal(BigInt(group.output_tokens), sum(list, (e) => e.output), `${where}: output_tokens`);
  }

  async function spend(query) {
    return admin.spend({ baseline: 'gpt-5.5', from: String(t0), ...query });
  }

  test('a scripted run over two tenants, three keys, two providers', async () => {
    t0 = Math.floor(Date.now() / 1000);
    keys.a1 = await admin.create({ tenant: 'fs-a', name: 'a1' });
    keys.a2 = await admin.create({ tenant: 'fs-a', name: 'a2' });
    keys.b1 = await admin.create({ tenant: 'fs-b', name: 'b1' });
    await send('a1', 'deepseek-v4-flash');
    await send('a1', 'deepseek-v4-flash', { maxTokens: 12 });
    await send('a1', 'glm-5');
    await send('a2', 'gpt-5.5');
    await send('a2', 'glm-5', { anthropic: true });
    await send('b1', 'kimi-k2.6');
    await send('b1', 'kimi-k2.6', { anthropic: true, maxTokens: 20 });
    assert.deepEqual([...new Set(sent.map((e) => e.provider))].sort(), ['second', 'upstream']);
    assert.ok(sent.every((e) => e.pico > 0n && e.output > 0n));
    await ledgerRows(s.dbPath, sent.map((e) => e.id));
  });

  test('by=key|tenant|provider with baseline=gpt-5.5: exact costs and savings', async () => {
    const groups = (report) => new Map(report.groups.map((g) => [g.key, g]));
    const byKey = await spend({ by: 'key' });
    assert.equal(byKey.group_by, 'key');
    assert.equal(byKey.baseline, 'gpt-5.5');
    const gk = groups(byKey);
    for (const name of ['a1', 'a2', 'b1']) {
      expectGroup(gk.get(keys[name].id), sent.filter((e) => e.keyId === keys[name].id), `key ${name}`);
    }
    expectGroup(byKey.total, sent, 'total by key');
    assert.equal(byKey.groups.length, 3, JSON.stringify([...gk.keys()]));
    assert.equal(byKey.has_more, false);
    // limit= lists the most expensive groups; the total still counts every request.
    const top = await spend({ by: 'key', limit: '2' });
    assert.deepEqual(top.groups, byKey.groups.slice(0, 2));
    assert.equal(top.has_more, true);
    assert.deepEqual(top.total, byKey.total);

    const byTenant = await spend({ by: 'tenant' });
    const gt = groups(byTenant);
    assert.deepEqual([...gt.keys()].sort(), ['fs-a', 'fs-b']);
    for (const t of ['fs-a', 'fs-b']) expectGroup(gt.get(t), sent.filter((e) => e.tenant === t), `tenant ${t}`);

    const byProvider = await spend({ by: 'provider' });
    const gp = groups(byProvider);
    assert.deepEqual([...gp.keys()].sort(), ['second', 'upstream']);
    for (const p of ['second', 'upstream']) expectGroup(gp.get(p), sent.filter((e) => e.provider === p), `provider ${p}`);
    // gpt-5.5 against itself saves nothing; the cheaper models save.
    const gpt = sent.filter((e) => e.model === 'gpt-5.5');
    assert.equal(sum(gpt, baseline), sum(gpt, (e) => e.pico), 'gpt-5.5 re-priced at gpt-5.5 is itself');

    // tenant= narrows.
    const onlyB = await spend({ by: 'key', tenant: 'fs-b' });
    assert.deepEqual(onlyB.groups.map((g) => g.key), [keys.b1.id]);
    expectGroup(onlyB.total, sent.filter((e) => e.tenant === 'fs-b'), 'tenant fs-b total');
    // Without a baseline: no baseline fields.
    const plain = await admin.spend({ by: 'tenant', from: String(t0) });
    assert.ok(!('savings_usd' in plain.total) && !('baseline' in plain), JSON.stringify(plain.total));
    assert.equal(plain.total.cost_usd, picoToUsd(sum(sent, (e) => e.pico)));
  });

  test('by=hour and the from/to window, in every time form', async () => {
    const byHour = await spend({ by: 'hour' });
    assert.ok(byHour.groups.length >= 1 && byHour.groups.length <= 2, 'this hour (maybe across one)');
    const hour = new Date().toISOString().slice(0, 13);
    for (const g of byHour.groups) assert.match(g.key, /^\d{4}-\d{2}-\d{2}[T ]\d{2}/);
    assert.ok(byHour.groups.some((g) => g.key.replace(' ', 'T').startsWith(hour.slice(0, 10))), JSON.stringify(byHour.groups));
    expectGroup(byHour.total, sent, 'total by hour');

    const now = Math.floor(Date.now() / 1000);
    const today = new Date(t0 * 1000).toISOString().slice(0, 10);
    const rfc = new Date(t0 * 1000).toISOString().replace(/\.\d{3}Z$/, 'Z');
    for (const [from, to] of [[String(t0), String(now + 60)], [rfc, String(now + 60)], [today, undefined]]) {
      const r = await spend({ by: 'key', from, ...(to ? { to } : {}) });
      expectGroup(r.total, sent, `window [${from}, ${to})`);
    }
    // [from, to): nothing before t0, nothing after now.
    const before = await spend({ by: 'key', from: String(t0 - 3600), to: String(t0) });
    assert.equal(before.total.requests, 0);
    assert.deepEqual(before.groups, []);
    assert.equal(before.total.cost_usd, '0');
    const later = await spend({ by: 'key', from: String(now + 3600) });
    assert.equal(later.total.requests, 0);
  });

  test('bad spend queries: 400 naming the parameter', async () => {
    for (const [query, param] of [
      ['by=week', 'by'], ['by=model&from=yesterday', 'from'], ['by=model&from=2026-13-45', 'from'],
      ['by=model&to=12:00', 'to'], ['by=model&baseline=gpt-9', 'baseline'],
      ['by=task&limit=0', 'limit'], ['by=task&limit=100001', 'limit'], ['by=task&limit=ten', 'limit'],
    ]) {
      const res = await admin.get(`/admin/spend?${query}`);
      assert.equal(res.status, 400, `${query}: ${res.text}`);
      assertOpenAIError(assert, res.json, { status: 400 });
      assert.equal(res.json.error.param, param, `${query}: ${res.text}`);
    }
    const outcomes = await admin.get('/admin/outcomes?by=key');
    assert.equal(outcomes.status, 400, outcomes.text);
    assert.equal(outcomes.json.error.param, 'by', outcomes.text);
    const noKey = await requestJson(`${s.url}/v1/spend?by=model`);
    assert.equal(noKey.status, 401, noKey.text);
  });

  test('feedback: bad bodies are 400s naming the field; unknown requests 404', async () => {
    const a = keys.a1;
    const mine = sent.find((e) => e.keyId === a.id).id;
    const theirs = sent.find((e) => e.tenant === 'fs-b').id;
    const post = (body, key = a.key) => requestJson(`${s.url}/v1/feedback`, { method: 'POST', headers: bearer(key), body });
    const cases = [
      [{ request_id: mine }, /outcome/],
      [{ request_id: mine, outcome: 'meh' }, /outcome/],
      [{ request_id: mine, outcome: true }, /outcome/],
      [{ outcome: 'success' }, /request_id|task_id/],
      [{ request_id: mine, task_id: 't', outcome: 'success' }, /request_id|task_id/],
      [{ request_id: 42, outcome: 'success' }, /request_id/],
      [{ request_id: mine, outcome: 'success', score: 1.5 }, /score/],
      [{ request_id: mine, outcome: 'success', score: -0.1 }, /score/],
      [{ request_id: mine, outcome: 'success', score: '0.5' }, /score/],
      [{ request_id: mine, outcome: 'success', user_retried: 'yes' }, /user_retried/],
      [{ request_id: mine, outcome: 'success', user_edited: 1 }, /user_edited/],
      [{ request_id: mine, outcome: 'success', comment: 'x'.repeat(2001) }, /comment/],
      [{ request_id: mine, outcome: 'success', comment: 7 }, /comment/],
    ];
    for (const [body, field] of cases) {
      const res = await post(body);
      assert.equal(res.status, 400, `${JSON.stringify(body).slice(0, 80)}: ${res.text}`);
      assertOpenAIError(assert, res.json, { status: 400 });
      assert.match(res.json.error.message, field, `${JSON.stringify(body).slice(0, 80)}: ${res.json.error.message}`);
    }
    for (const raw of ['{"outcome":', '[]']) assert.equal((await post(raw)).status, 400, raw);

    for (const body of [{ request_id: 'req_doesnotexist', outcome: 'success' },
      { task_id: 'no-such-task', outcome: 'failure' },
      { request_id: theirs, outcome: 'success' }]) {
      const res = await post(body);
      assert.equal(res.status, 404, `${JSON.stringify(body)}: ${res.text}`);
      assertOpenAIError(assert, res.json, { status: 404 });
    }
    const noKey = await requestJson(`${s.url}/v1/feedback`, { method: 'POST', body: { request_id: mine, outcome: 'success' } });
    assert.equal(noKey.status, 401, noKey.text);

    // The bounds are accepted: score 0 and 1, a comment of exactly 2000 bytes.
    for (const extra of [{ score: 0 }, { score: 1, user_retried: false, user_edited: true, comment: 'é'.repeat(1000) }]) {
      const res = await post({ request_id: mine, outcome: 'success', ...extra });
      assert.equal(res.status, 201, res.text);
      assert.equal(res.json.object, 'feedback');
      assert.match(res.json.id, /^fb_/);
      assert.equal(res.json.request_id, mine);
      assert.equal(res.json.outcome, 'success');
    }
    // Another key of the same tenant may rate the tenant's request.
    assert.equal((await post({ request_id: mine, outcome: 'failure' }, keys.a2.key)).status, 201);
  });

  test('the access log: one JSON line per request, no prompt text, no key', async () => {
    const ids = new Set(sent.map((e) => e.id));
    let lines = [];
    for (let i = 0; i < 100; ++i) {
      lines = readFileSync(accessLogPath, 'utf8').split('\n').filter((l) => l !== '');
      if (lines.filter((l) => [...ids].some((id) => l.includes(id))).length >= ids.size) break;
      await new Promise((r) => setTimeout(r, 50));
    }
    const text = readFileSync(accessLogPath, 'utf8');
    assert.ok(!text.includes(PROMPT_MARK), 'prompt text in the access log');
    for (const k of Object.values(keys)) assert.ok(!text.includes(k.key.slice(12)), 'a key in the access log');
    assert.ok(!text.includes(ADMIN), 'the admin token in the access log');
    const entries = lines.map((l) => JSON.parse(l));
    const byId = new Map(entries.map((e) => [e.request_id, e]));
    for (const e of sent) {
      const line = byId.get(e.id);
      assert.ok(line, `a line for ${e.id}`);
      assert.ok(!('prompt' in line), 'no prompt field without log_prompts');
      assert.equal(line.key_id, e.keyId);
      assert.equal(line.tenant, e.tenant);
      assert.equal(line.requested_model, e.model);
      assert.equal(line.provider, e.provider);
      assert.equal(line.status, 200);
      assert.equal(line.cost_usd, picoToUsd(e.pico));
      assert.equal(BigInt(line.input_tokens), e.input);
      assert.equal(BigInt(line.output_tokens), e.output);
      assert.equal(line.attempts, 1);
      assert.ok(Number.isInteger(line.latency_ms) && line.latency_ms >= 0, JSON.stringify(line));
      // The time: Unix milliseconds (docs/operations.md, "Access log"), near now.
      const ts = line.ts_ms;
      assert.ok(Number.isInteger(ts) && ts >= t0 * 1000 - 1000 && ts <= Date.now() + 1000, `time of ${JSON.stringify(line)}`);
      for (const field of ['task_id', 'dialect', 'endpoint', 'model', 'profile', 'rule', 'task_type',
        'error_code', 'ttft_ms']) {
        assert.ok(field in line, `${field} in ${JSON.stringify(line)}`);
      }
    }
    assert.equal(new Set(sent.filter((e) => byId.has(e.id)).map((e) => byId.get(e.id).dialect)).size, 2,
      'both dialects logged');
  });

  testCleanShutdown(() => s);
});
