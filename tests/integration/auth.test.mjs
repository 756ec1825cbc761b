// Client keys and the admin API (issue 19), raw HTTP in both dialects: the admin token guard,
// bad admin input, keys shown once, Bearer and x-api-key, the 401s (missing, malformed, unknown,
// oversized, non-ASCII, revoked, rotated away), 403 for models and profiles a key may not use,
// PATCH, tenants, the x-ratelimit-* headers, and the `switchyard keys` CLI against the database
// of a running gateway. One gateway (`serve`, keys on) in front of one emulator for the file.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describe, test } from 'node:test';

import {
  ADMIN_TOKEN_ENV, CLIENT_KEY_RE, DEFAULT_KEY_ENV, KEY_ID_RE, adminApi, anthropicKey,
  assertOpenAIError, bearer, chat, emulator, keysConfigYaml, ledgerRows, messages, modelRequests,
  pollUntil, postJson, rawExchange, runToExit, shareServe, testCleanShutdown, usdToPico,
  userMessage,
} from '../testutil/harness.mjs';

const ADMIN = `admin-${randomBytes(16).toString('hex')}`;
const GRACE_S = 3600;
const MODELS = ['deepseek-v4-flash', 'kimi-k2.6', 'gpt-5.5'];

// Codes as docs/api.md documents them: OpenAI's own invalid_api_key for every 401 of a client
// key (spec19 had missing_api_key / revoked_api_key), permission_error without a code for 403.
const MISSING = "No API key: send Authorization: Bearer sk-sy-... (or x-api-key in Anthropic's dialect).";
const INVALID = 'Invalid API key.';
// OpenAI's reset durations: 1s, 6m0s, 850ms, 1h2m3s.
const DURATION_RE = /^(\d+h)?(\d+m)?(\d+(\.\d+)?s|\d+ms)$/;

const ping = (model = 'deepseek-v4-flash') => ({ model, max_tokens: 8, messages: userMessage('ping') });
const base62 = (n) => {
  const abc = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
  return [...randomBytes(n)].map((b) => abc[b % 62]).join('');
};

function assertAnthropicError(res, status, type) {
  assert.equal(res.status, status, res.text);
  assert.equal(res.json?.type, 'error', res.text);
  assert.equal(res.json.error?.type, type, res.text);
  assert.equal(typeof res.json.error.message, 'string', res.text);
}

function assertOpenAI(res, status, code) {
  assert.equal(res.status, status, res.text);
  assertOpenAIError(assert, res.json, { status });
  assert.equal(res.json.error.code, code, res.text);
}

describe('client keys and the admin API', () => {
  let s;
  let admin;
  shareServe((o) => keysConfigYaml({ ...o, auth: { rotation_grace_s: GRACE_S } }), async (served) => {
    s = served;
    admin = adminApi(s.url, ADMIN);
    for (const m of MODELS) await emulator.setProfile(s.emulatorUrl, m, { ttft_ms: 1, tokens_per_s: 0 });
  }, { env: { [ADMIN_TOKEN_ENV]: ADMIN } });

  const openai = (key, body = ping()) => chat(s.url, body, { headers: bearer(key) });
  const anthropic = (key, body = ping()) => messages(s.url, body, { headers: anthropicKey(key) });

  // --- the admin token ----------------------------------------------------------------------

  // The admin 401 uses OpenAI's authentication code (docs/api.md); the body is what matters: one
  // answer for every refusal, so a guess learns nothing.
  test('admin: no token or a wrong one -> 401, the same body', async () => {
    const answers = [];
    for (const headers of [{}, bearer('wrong'), bearer(`${ADMIN}x`), bearer(ADMIN.slice(0, -1)),
      bearer(ADMIN.toUpperCase()), { authorization: ADMIN }, { 'x-api-key': ADMIN }]) {
      const res = await adminApi(s.url).call('GET', '/admin/keys', undefined, headers);
      assertOpenAI(res, 401, 'invalid_api_key');
      assert.equal(res.headers.get('www-authenticate'), 'Bearer', 'a 401 names its scheme');
      answers.push(res.text);
    }
    assert.equal(new Set(answers).size, 1, `one body for every refusal: ${answers.join('\n')}`);
    const post = await adminApi(s.url, 'wrong').post('/admin/keys', { tenant: 'sneaky' });
    assertOpenAI(post, 401, 'invalid_api_key');
    assert.equal(post.text, answers[0]);
    const list = await admin.get('/admin/keys?tenant=sneaky');
    assert.equal(list.status, 200, list.text);
    assert.deepEqual(list.json.data, [], 'nothing was created without the token');
  });

  // RFC 9110 §15.5.6: a known route asked with another method is a 405 that lists the right ones.
  test('admin: a known route with another method -> 405 with Allow', async () => {
    const cases = [
      ['DELETE', '/admin/keys', 'GET, HEAD, POST'],
      ['GET', '/admin/keys/nope/rotate', 'POST'],
      ['PUT', '/admin/keys/nope', 'GET, HEAD, PATCH, DELETE'],
      ['POST', '/admin/tenants/acme', 'GET, HEAD, PUT'],
      ['POST', '/admin/spend', 'GET, HEAD'],
    ];
    for (const [method, route, allow] of cases) {
      const res = await admin.call(method, route);
      assertOpenAI(res, 405, 'method_not_allowed');
      assert.equal(res.headers.get('allow'), allow, `${method} ${route}`);
    }
  });

  // --- bad admin input ----------------------------------------------------------------------

  test('admin: bad input -> 400 naming the field, nothing created', async () => {
    const T = 'bad-input';
    const cases = [
      [{ tenant: T, budgets: { usd_per_day: '5.0.0' } }, /usd_per_day/],
      [{ tenant: T, budgets: { usd_per_month: 'ten' } }, /usd_per_month/],
      [{ tenant: T, budgets: { usd_per_day: '-1.00' } }, /usd_per_day/],
      [{ tenant: T, budgets: { usd_per_day: '1e3' } }, /usd_per_day/],
      [{ tenant: 'has spaces' }, /tenant/],
      [{ tenant: 'x'.repeat(65) }, /tenant/],
      [{ tenant: '' }, /tenant/],
      [{ name: 'no tenant' }, /tenant/],
      [{ tenant: T, limits: { requests_per_minute: -1 } }, /requests_per_minute/],
      [{ tenant: T, limits: { tokens_per_minute: 1.5 } }, /tokens_per_minute/],
      [{ tenant: T, limits: { requests_per_minute: '60' } }, /requests_per_minute/],
      [{ tenant: T, name: 'x'.repeat(129) }, /at most 128 bytes/],
      // Regression (audit 2): control characters were refused as "at most 128 bytes".
      [{ tenant: T, name: 'bell\u0007' }, /name must not contain control characters/],
      [{ tenant: T, name: 'a\r\nb' }, /name must not contain control characters/],
      [{ tenant: T, allowed_models: 'gpt-5.5' }, /allowed_models/],
      [{ tenant: T, allowed_profiles: [7] }, /allowed_profiles/],
      // Decision: unknown fields are refused (a typo such as "budget" must not silently leave
      // the key without its budget).
      [{ tenant: T, budget: { usd_per_day: '5.00' } }, /budget/],
      [{ tenant: T, budgets: { usd_per_week: '5.00' } }, /usd_per_week/],
    ];
    for (const [body, field] of cases) {
      const res = await admin.post('/admin/keys', body);
      assert.equal(res.status, 400, `${JSON.stringify(body)} -> ${res.text}`);
      assertOpenAIError(assert, res.json, { status: 400 });
      assert.match(res.json.error.message, field, `${JSON.stringify(body)} -> ${res.text}`);
    }
    // Each refusal says what is wrong with the body (audit 2: a 61-deep body was "not an object").
    const deep = `{"tenant":"${T}","budgets":${'['.repeat(60)}${']'.repeat(60)}}`;
    for (const [raw, message] of [
      ['{"tenant":', 'The body is not valid JSON.'],
      ['[]', 'The body must be a JSON object.'],
      ['"acme"', 'The body must be a JSON object.'],
      [deep, 'The body is nested deeper than 16 levels.'],
    ]) {
      const res = await admin.post('/admin/keys', raw);
      assert.equal(res.status, 400, `${raw} -> ${res.text}`);
      assertOpenAIError(assert, res.json, { status: 400 });
      assert.equal(res.json.error.message, message, raw);
    }
    const list = await admin.get(`/admin/keys?tenant=${T}`);
    assert.equal(list.status, 200, list.text);
    assert.deepEqual(list.json.data, []);
  });

  // --- create, list, get --------------------------------------------------------------------

  test('create: 201 with the key, shown once; list and get never show it', async () => {
    const before = Math.floor(Date.now() / 1000);
    const k = await admin.create({ tenant: 'acme', name: 'ci',
      budgets: { usd_per_day: '5.00', usd_per_month: '100.00' },
      limits: { requests_per_minute: 600, tokens_per_minute: 200000 } });
    assert.equal(k.object, 'key');
    assert.match(k.key, CLIENT_KEY_RE);
    assert.match(k.id, KEY_ID_RE);
    assert.equal(k.prefix, k.key.slice(0, 12));
    assert.equal(k.tenant, 'acme');
    assert.equal(k.name, 'ci');
    assert.equal(k.status, 'active');
    assert.equal(k.revoked_at, null);
    assert.ok(Number.isInteger(k.created_at) && k.created_at >= before - 1
      && k.created_at <= Date.now() / 1000 + 1, `created_at ${k.created_at}`);
    assert.equal(usdToPico(k.budgets.usd_per_day), 5n * 10n ** 12n);
    assert.equal(usdToPico(k.budgets.usd_per_month), 100n * 10n ** 12n);
    assert.deepEqual(k.limits, { requests_per_minute: 600, tokens_per_minute: 200000 });
    assert.equal(k.allowed_models, null);
    assert.equal(k.allowed_profiles, null);
    assert.equal(usdToPico(k.spend.usd_today), 0n);
    assert.equal(usdToPico(k.spend.usd_this_month), 0n);

    const other = await admin.create({ tenant: 'acme' });
    assert.notEqual(other.key, k.key);
    assert.notEqual(other.id, k.id);

    for (const route of ['/admin/keys', '/admin/keys?tenant=acme', `/admin/keys/${k.id}`]) {
      const res = await admin.get(route);
      assert.equal(res.status, 200, `${route}: ${res.text}`);
      assert.ok(!res.text.includes(k.key) && !res.text.includes(other.key), `${route} shows a key`);
      assert.ok(!res.text.includes(k.key.slice(12)), `${route} shows the key's secret part`);
    }
    const all = (await admin.get('/admin/keys?limit=1000')).json;
    assert.equal(all.object, 'list');
    assert.equal(all.has_more, false);
    // A page at a time: limit= and the previous page's last_id as after=.
    const first = (await admin.get('/admin/keys?limit=1')).json;
    assert.deepEqual(first.data, all.data.slice(0, 1));
    assert.equal(first.has_more, all.data.length > 1);
    const second = (await admin.get(`/admin/keys?limit=1&after=${first.last_id}`)).json;
    assert.deepEqual(second.data.map((e) => e.id), all.data.slice(1, 2).map((e) => e.id));
    for (const [query, param] of [['limit=0', 'limit'], ['limit=1001', 'limit'], ['after=key_nope', 'after']]) {
      const bad = await admin.get(`/admin/keys?${query}`);
      assert.equal(bad.status, 400, `${query}: ${bad.text}`);
      assert.equal(bad.json.error.param, param, bad.text);
    }
    const mine = all.data.find((e) => e.id === k.id);
    assert.ok(mine, 'the new key is listed');
    assert.ok(!('key' in mine));
    assert.equal(mine.prefix, k.prefix);
    const acme = (await admin.get('/admin/keys?tenant=acme')).json.data;
    assert.ok(acme.every((e) => e.tenant === 'acme'));
    assert.deepEqual(acme.map((e) => e.id).filter((id) => [k.id, other.id].includes(id)).sort(),
      [k.id, other.id].sort());
    assert.ok(!(await admin.get('/admin/keys?tenant=nobody')).json.data.some((e) => e.id === k.id));
    const one = (await admin.get(`/admin/keys/${k.id}`)).json;
    const { key: _shownOnce, ...withoutKey } = k;
    assert.deepEqual({ ...one, spend: undefined }, { ...withoutKey, spend: undefined });
    const missing = await admin.get(`/admin/keys/key_${'0'.repeat(16)}`);
    assert.equal(missing.status, 404, missing.text);
    assertOpenAIError(assert, missing.json, { status: 404 });
    // Regression: any path starting with /admin/keys was a key's ("/admin/keysX<id>" got it).
    const loose = await admin.get(`/admin/keysX${k.id}`);
    assert.equal(loose.status, 404, loose.text);
    assertOpenAIError(assert, loose.json, { status: 404 });
  });

  // --- both dialects ------------------------------------------------------------------------

  test('OpenAI Bearer and Anthropic x-api-key both work; the ledger names key and tenant', async () => {
    const k = await admin.create({ tenant: 'acme', name: 'dialects' });
    const a = await openai(k.key);
    assert.equal(a.status, 200, a.text);
    const b = await anthropic(k.key);
    assert.equal(b.status, 200, b.text);
    assert.equal(b.json.type, 'message');
    // Anthropic's SDK with authToken sends Bearer on /v1/messages.
    const c = await postJson(`${s.url}/v1/messages`, ping(),
      { headers: { 'anthropic-version': '2023-06-01', ...bearer(k.key) } });
    assert.equal(c.status, 200, c.text);
    // Both headers: Authorization wins.
    const d = await messages(s.url, ping(), { headers: { ...anthropicKey('sk-sy-garbage'), ...bearer(k.key) } });
    assert.equal(d.status, 200, d.text);
    const e = await messages(s.url, ping(), { headers: { ...anthropicKey(k.key), ...bearer('sk-sy-garbage') } });
    assertAnthropicError(e, 401, 'authentication_error');
    assert.equal(e.json.error.message, INVALID);
    const ids = [a, b, c, d].map((r) => r.headers.get('x-switchyard-request-id'));
    const rows = await ledgerRows(s.dbPath, ids);
    assert.deepEqual(rows.map((r) => [r.key_id, r.tenant, r.status]),
      ids.map(() => [k.id, 'acme', 200]));
  });

  test('no key: 401 in each dialect, its own message; nothing reaches the upstream', async () => {
    const a = await chat(s.url, ping());
    assertOpenAI(a, 401, 'invalid_api_key');
    assert.equal(a.json.error.message, MISSING);
    const b = await postJson(`${s.url}/v1/messages`, ping(), { headers: { 'anthropic-version': '2023-06-01' } });
    assertAnthropicError(b, 401, 'authentication_error');
    assert.equal(b.json.error.message, MISSING);
    const empty = await chat(s.url, ping(), { headers: { authorization: '' } });
    assertOpenAI(empty, 401, 'invalid_api_key');
    assert.deepEqual(modelRequests(await emulator.requests(s.emulatorUrl)), []);
  });

  test('malformed, unknown, near-miss, 600-byte and non-ASCII keys: 401, one message', async () => {
    const k = await admin.create({ tenant: 'acme', name: 'near' });
    const flip = (c) => (c === 'A' ? 'B' : 'A');
    const nearMiss = k.key.slice(0, -1) + flip(k.key.at(-1));
    const auths = [
      'Bearer sk-sy-short',
      `Bearer sk-sy-${base62(40)}`,
      `Bearer ${nearMiss}`,
      `Bearer ${k.key}x`,
      `Bearer ${k.key.slice(0, 12)}`,
      `Bearer ${'x'.repeat(593)}`,  // 600 bytes with "Bearer "
      `Bearer sk-sy-${'A'.repeat(600)}`,
    ];
    const bodies = [];
    for (const authorization of auths) {
      const res = await chat(s.url, ping(), { headers: { authorization } });
      assertOpenAI(res, 401, 'invalid_api_key');
      assert.equal(res.json.error.message, INVALID, authorization.slice(0, 40));
      bodies.push(JSON.stringify(res.json.error));
    }
    assert.equal(new Set(bodies).size, 1, bodies.join('\n'));
    // Non-ASCII bytes in the header, sent raw.
    const body = JSON.stringify(ping());
    const head = Buffer.concat([
      Buffer.from(`POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\nAuthorization: Bearer ${k.key.slice(0, -2)}`),
      Buffer.from('é', 'utf8'), Buffer.from('\r\n\r\n'), Buffer.from(body)]);
    const raw = await rawExchange(s.url, [head]);
    assert.equal(raw.response?.status, 401, raw.raw.toString('latin1'));
    assert.equal(JSON.stringify(raw.response.json?.error), bodies[0]);
    // Anthropic's dialect: the same text as an authentication_error.
    for (const key of [nearMiss, 'sk-ant-api03-something', `sk-sy-${base62(40)}`]) {
      const res = await anthropic(key);
      assertAnthropicError(res, 401, 'authentication_error');
      assert.equal(res.json.error.message, INVALID);
    }
    assert.deepEqual(modelRequests(await emulator.requests(s.emulatorUrl)), []);
    // The real key still works.
    assert.equal((await openai(k.key)).status, 200);
  });

  test('an Authorization that is not "Bearer <key>": 401, the same message as an unknown key', async () => {
    const k = await admin.create({ tenant: 'acme', name: 'schemes' });
    const unknown = await chat(s.url, ping(), { headers: bearer(`sk-sy-${base62(40)}`) });
    assertOpenAI(unknown, 401, 'invalid_api_key');
    for (const authorization of ['Basic dXNlcjpwYXNz', 'Bearer', 'Bearer ', `Token ${k.key}`, k.key]) {
      const res = await chat(s.url, ping(), { headers: { authorization } });
      assertOpenAI(res, 401, 'invalid_api_key');
      assert.deepEqual(res.json.error, unknown.json.error, JSON.stringify(authorization.slice(0, 20)));
    }
  });

  // --- revoke and rotate --------------------------------------------------------------------

  test('revoke: the very next request is 401 revoked, in each dialect', async () => {
    const k = await admin.create({ tenant: 'acme', name: 'to-revoke' });
    assert.equal((await openai(k.key)).status, 200);
    const del = await admin.del(`/admin/keys/${k.id}`);
    assert.equal(del.status, 200, del.text);
    assert.equal(del.json.object, 'key');
    assert.equal(del.json.id, k.id);
    assert.equal(del.json.status, 'revoked');
    assert.ok(Number.isInteger(del.json.revoked_at), del.text);
    assert.ok(!('key' in del.json));
    const res = await openai(k.key);
    assertOpenAI(res, 401, 'invalid_api_key');
    const m = /^This API key was revoked at (\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z)\.$/.exec(res.json.error.message);
    assert.ok(m, res.json.error.message);
    assert.equal(Date.parse(m[1]) / 1000, del.json.revoked_at);
    const a = await anthropic(k.key);
    assertAnthropicError(a, 401, 'authentication_error');
    assert.equal(a.json.error.message, res.json.error.message);
    const got = await admin.get(`/admin/keys/${k.id}`);
    assert.equal(got.json.status, 'revoked');
    assert.equal(got.json.revoked_at, del.json.revoked_at);
    assert.equal(modelRequests(await emulator.requests(s.emulatorUrl)).length, 1);
  });

  test('rotate with grace: the old and the new secret both work', async () => {
    const k = await admin.create({ tenant: 'acme', name: 'rotate-grace' });
    const r = await admin.post(`/admin/keys/${k.id}/rotate`, { grace_seconds: 3600 });
    assert.equal(r.status, 200, r.text);
    assert.equal(r.json.id, k.id);
    assert.match(r.json.key, CLIENT_KEY_RE);
    assert.notEqual(r.json.key, k.key);
    assert.equal(r.json.prefix, r.json.key.slice(0, 12));
    assert.equal(r.json.status, 'active');
    for (const key of [k.key, r.json.key]) {
      assert.equal((await openai(key)).status, 200);
      assert.equal((await anthropic(key)).status, 200);
    }
    // No body: the configured rotation_grace_s (an hour here) keeps the old secret working.
    const d = await admin.create({ tenant: 'acme', name: 'rotate-default' });
    const rd = await admin.post(`/admin/keys/${d.id}/rotate`, {});
    assert.equal(rd.status, 200, rd.text);
    assert.equal((await openai(d.key)).status, 200);
    assert.equal((await openai(rd.json.key)).status, 200);
    const rows = await ledgerRows(s.dbPath, [(await openai(d.key)).headers.get('x-switchyard-request-id')]);
    assert.equal(rows[0].key_id, d.id, 'the old secret is still the same key');
  });

  test('rotate with grace_seconds 0: the old secret fails at once, as an unknown key', async () => {
    const k = await admin.create({ tenant: 'acme', name: 'rotate-now' });
    const r = await admin.post(`/admin/keys/${k.id}/rotate`, { grace_seconds: 0 });
    assert.equal(r.status, 200, r.text);
    const old = await openai(k.key);
    assertOpenAI(old, 401, 'invalid_api_key');
    assert.equal(old.json.error.message, INVALID);
    assert.equal((await openai(r.json.key)).status, 200);
    for (const bad of [{ grace_seconds: -1 }, { grace_seconds: 'soon' }]) {
      const res = await admin.post(`/admin/keys/${k.id}/rotate`, bad);
      assert.equal(res.status, 400, res.text);
      assert.match(res.json.error.message, /grace_seconds/);
    }
    assert.equal((await openai(r.json.key)).status, 200, 'a refused rotate changed nothing');
  });

  // --- allowed models and profiles ----------------------------------------------------------

  test('allowed_models and allowed_profiles: 403 permission_error in each dialect', async () => {
    const m = await admin.create({ tenant: 'acme', name: 'models', allowed_models: ['gpt-5.5'] });
    assert.deepEqual(m.allowed_models, ['gpt-5.5']);
    assert.equal((await openai(m.key, ping('gpt-5.5'))).status, 200);
    const no = await openai(m.key, ping('kimi-k2.6'));
    assertOpenAI(no, 403, null);
    assert.equal(no.json.error.type, 'permission_error');
    assert.match(no.json.error.message, /^This key may not use model 'kimi-k2\.6'\. Allowed( models)?: gpt-5\.5\.$/);
    const noA = await anthropic(m.key, ping('kimi-k2.6'));
    assertAnthropicError(noA, 403, 'permission_error');
    assert.equal(noA.json.error.message, no.json.error.message);

    const p = await admin.create({ tenant: 'acme', name: 'profiles', allowed_profiles: ['auto'] });
    assert.deepEqual(p.allowed_profiles, ['auto']);
    assert.equal((await openai(p.key, ping('auto'))).status, 200);
    const noP = await openai(p.key, ping('auto:cheap'));
    assertOpenAI(noP, 403, null);
    assert.match(noP.json.error.message, /cheap/);
    assert.match(noP.json.error.message, /Allowed( profiles)?: auto\.$/);
    assertAnthropicError(await anthropic(p.key, ping('auto:cheap')), 403, 'permission_error');
    // Only the allowed calls reached the upstream.
    assert.equal(modelRequests(await emulator.requests(s.emulatorUrl)).length, 2);
  });

  // --- PATCH --------------------------------------------------------------------------------

  test('PATCH changes limits, name and allowed models; null clears', async () => {
    const k = await admin.create({ tenant: 'acme', name: 'patchme', limits: { requests_per_minute: 600 } });
    const first = await openai(k.key);
    assert.equal(first.status, 200, first.text);
    assert.equal(first.headers.get('x-ratelimit-limit-requests'), '600');
    const p = await admin.patch(`/admin/keys/${k.id}`,
      { name: 'patched', limits: { requests_per_minute: 2 }, allowed_models: ['deepseek-v4-flash'] });
    assert.equal(p.status, 200, p.text);
    assert.equal(p.json.name, 'patched');
    assert.equal(p.json.limits.requests_per_minute, 2);
    assert.deepEqual(p.json.allowed_models, ['deepseek-v4-flash']);
    assert.equal((await admin.get(`/admin/keys/${k.id}`)).json.name, 'patched');
    assertOpenAI(await openai(k.key, ping('kimi-k2.6')), 403, null);

    const seen = [];
    let limited;
    for (let i = 0; i < 4 && !limited; ++i) {
      const res = await openai(k.key);
      seen.push(res.status);
      if (res.status === 429) limited = res;
      else assert.equal(res.headers.get('x-ratelimit-limit-requests'), '2', res.text);
    }
    assert.ok(limited, `the new limit of 2 a minute held: ${seen}`);
    assert.ok(seen.length <= 3, `at most two more got through: ${seen}`);
    assertOpenAI(limited, 429, 'rate_limit_exceeded');
    assert.match(limited.json.error.message,
      /^Rate limit reached: key key_\w+ (\(tenant acme\) )?allows 2 requests per minute; try again in \d+(\.\d+)?s\.$/);
    assert.match(limited.headers.get('retry-after') ?? '', /^[1-9]\d*$/);

    const cleared = await admin.patch(`/admin/keys/${k.id}`, { limits: null, allowed_models: null });
    assert.equal(cleared.status, 200, cleared.text);
    assert.equal(cleared.json.allowed_models, null);
    const free = await openai(k.key, ping('kimi-k2.6'));
    assert.equal(free.status, 200, free.text);
    assert.equal(free.headers.get('x-ratelimit-limit-requests'), null, 'no limit, no header');

    const bad = await admin.patch(`/admin/keys/${k.id}`, { limits: { requests_per_minute: 'x' } });
    assert.equal(bad.status, 400, bad.text);
    assert.match(bad.json.error.message, /requests_per_minute/);
    const unknown = await admin.patch(`/admin/keys/key_${'1'.repeat(16)}`, { name: 'x' });
    assert.equal(unknown.status, 404, unknown.text);
  });

  // --- tenants ------------------------------------------------------------------------------

  test('tenants: PUT and GET; the tighter tenant limit is what the headers show', async () => {
    const put = await admin.put('/admin/tenants/team-t', {
      budgets: { usd_per_day: '3.50', usd_per_month: '70' },
      limits: { requests_per_minute: 100, tokens_per_minute: 50000 } });
    assert.equal(put.status, 200, put.text);
    assert.equal(put.json.object, 'tenant');
    assert.equal(put.json.name, 'team-t');
    assert.equal(usdToPico(put.json.budgets.usd_per_day), 3_500_000_000_000n);
    assert.equal(usdToPico(put.json.budgets.usd_per_month), 70n * 10n ** 12n);
    assert.deepEqual(put.json.limits, { requests_per_minute: 100, tokens_per_minute: 50000 });
    assert.equal(usdToPico(put.json.spend.usd_today), 0n);

    const one = await admin.get('/admin/tenants/team-t');
    assert.equal(one.status, 200, one.text);
    assert.deepEqual(one.json, put.json);
    const list = await admin.get('/admin/tenants');
    assert.equal(list.status, 200, list.text);
    assert.equal(list.json.object, 'list');
    const names = list.json.data.map((t) => t.name);
    assert.ok(names.includes('team-t') && names.includes('acme'), `tenants: ${names}`);
    const nobody = await admin.get('/admin/tenants/nobody-here');
    assert.equal(nobody.status, 404, nobody.text);
    assertOpenAIError(assert, nobody.json, { status: 404 });

    const k = await admin.create({ tenant: 'team-t', limits: { requests_per_minute: 600, tokens_per_minute: 200000 } });
    const res = await openai(k.key);
    assert.equal(res.status, 200, res.text);
    assert.equal(res.headers.get('x-ratelimit-limit-requests'), '100');
    assert.equal(res.headers.get('x-ratelimit-limit-tokens'), '50000');


    for (const [route, body, field] of [
      ['/admin/tenants/bad%20name', {}, /tenant|name/],
      ['/admin/tenants/team-t', { budgets: { usd_per_day: '5.0.0' } }, /usd_per_day/],
      ['/admin/tenants/team-t', { limits: { tokens_per_minute: -5 } }, /tokens_per_minute/],
    ]) {
      const bad = await admin.put(route, body);
      assert.equal(bad.status, 400, `${route} ${JSON.stringify(body)}: ${bad.text}`);
      assert.match(bad.json.error.message, field);
    }
  });

  test('the headers show whichever of key and tenant has fewer requests left', async () => {
    const put = await admin.put('/admin/tenants/team-loose', { limits: { requests_per_minute: 1000 } });
    assert.equal(put.status, 200, put.text);
    const k = await admin.create({ tenant: 'team-loose', limits: { requests_per_minute: 600 } });
    const res = await openai(k.key);
    assert.equal(res.status, 200, res.text);
    assert.equal(res.headers.get('x-ratelimit-limit-requests'), '600');
    // PUT replaces the tenant's policy: tightened below the key's, the tenant's shows.
    const tight = await admin.put('/admin/tenants/team-loose', { limits: { requests_per_minute: 50 } });
    assert.equal(tight.status, 200, tight.text);
    assert.equal((await openai(k.key)).headers.get('x-ratelimit-limit-requests'), '50');
    // Loosened again: the tenant's bucket is still nearly as empty as the 50 left it (it refills
    // at 1000 a minute), so it is still the one that binds, now with its new limit.
    const again = await admin.put('/admin/tenants/team-loose', { limits: { requests_per_minute: 1000 } });
    assert.equal(again.status, 200, again.text);
    const loose = await openai(k.key);
    assert.equal(loose.headers.get('x-ratelimit-limit-requests'), '1000');
    assert.ok(Number(loose.headers.get('x-ratelimit-remaining-requests')) < 600,
      loose.headers.get('x-ratelimit-remaining-requests'));
  });

  test('x-ratelimit-* headers on every answer of a key with limits, in both dialects (and Anthropic\'s own names)', async () => {
    // 6000 tokens a minute refill 1 token every 10 ms: the few tokens three answers spend are not
    // refilled before the third is admitted, however slow the machine (at 200000 a minute a
    // 10 ms request under ASan was refilled in full, and the check below flaked).
    const k = await admin.create({ tenant: 'headers', limits: { requests_per_minute: 600, tokens_per_minute: 6000 } });
    const before = Date.now();
    const answers = [await openai(k.key), await anthropic(k.key), await openai(k.key)];
    for (const res of answers) {
      assert.equal(res.status, 200, res.text);
      const h = (n) => res.headers.get(n);
      assert.equal(h('x-ratelimit-limit-requests'), '600');
      assert.equal(h('x-ratelimit-limit-tokens'), '6000');
      assert.match(h('x-ratelimit-remaining-requests') ?? '', /^\d+$/);
      assert.ok(Number(h('x-ratelimit-remaining-requests')) <= 599);
      assert.match(h('x-ratelimit-remaining-tokens') ?? '', /^\d+$/);
      assert.ok(Number(h('x-ratelimit-remaining-tokens')) <= 6000);
      assert.match(h('x-ratelimit-reset-requests') ?? '', DURATION_RE);
      assert.match(h('x-ratelimit-reset-tokens') ?? '', DURATION_RE);
    }
    // The Anthropic client also gets Anthropic's own names for the same state, the reset as the
    // RFC 3339 instant the bucket is full again (whole seconds, never already past); an OpenAI
    // client does not.
    const a = (n) => answers[1].headers.get(n);
    for (const what of ['requests', 'tokens']) {
      assert.equal(a(`anthropic-ratelimit-${what}-limit`), a(`x-ratelimit-limit-${what}`));
      assert.equal(a(`anthropic-ratelimit-${what}-remaining`), a(`x-ratelimit-remaining-${what}`));
      const reset = a(`anthropic-ratelimit-${what}-reset`) ?? '';
      assert.match(reset, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
      assert.ok(Date.parse(reset) >= before - 1000, reset);
      assert.ok(Date.parse(reset) <= Date.now() + 61_000, reset);
    }
    assert.deepEqual([...answers[0].headers.keys()].filter((n) => n.startsWith('anthropic-')), []);
    // Three requests so far in well under a minute: at most 598 left, and tokens were spent.
    assert.ok(Number(answers[2].headers.get('x-ratelimit-remaining-requests')) <= 598);
    assert.ok(Number(answers[2].headers.get('x-ratelimit-remaining-tokens')) < 6000,
      answers[2].headers.get('x-ratelimit-remaining-tokens'));
    // A key without limits gets none of them.
    const free = await admin.create({ tenant: 'headers' });
    const res = await openai(free.key);
    assert.equal(res.status, 200);
    assert.deepEqual([...res.headers.keys()].filter((n) => n.startsWith('x-ratelimit-')), []);
  });

  // --- the CLI ------------------------------------------------------------------------------

  test('switchyard keys create/list/revoke on the running gateway\'s database', async () => {
    const env = { [DEFAULT_KEY_ENV]: 'sk-test-upstream', [ADMIN_TOKEN_ENV]: ADMIN };
    const cfg = s.gw.configPath;
    const created = await runToExit(['keys', 'create', '--config', cfg, '--tenant', 'cli-team',
      '--name', 'from-cli', '--usd-per-day', '2.50', '--rpm', '120', '--allow-model', 'gpt-5.5',
      '--allow-model', 'deepseek-v4-flash'], { env });
    assert.equal(created.code, 0, created.stderr);
    const k = JSON.parse(created.stdout);
    assert.match(k.key, CLIENT_KEY_RE);
    assert.match(k.id, KEY_ID_RE);
    assert.equal(k.tenant, 'cli-team');
    assert.equal(k.name, 'from-cli');
    assert.equal(usdToPico(k.budgets.usd_per_day), 2_500_000_000_000n);
    assert.equal(k.limits.requests_per_minute, 120);
    assert.deepEqual(k.allowed_models, ['gpt-5.5', 'deepseek-v4-flash']);

    // The gateway picks it up within auth.reload_interval_ms (250 ms by default).
    let t0 = performance.now();
    const ok = await pollUntil(async () => (await openai(k.key)).status === 200, { timeoutMs: 2000, intervalMs: 50 });
    assert.ok(ok, 'the gateway accepted the CLI\'s key within 2 s');
    assert.ok(performance.now() - t0 <= 1500 + 500, `seen after ${performance.now() - t0} ms`);

    const listed = await runToExit(['keys', 'list', '--config', cfg, '--tenant', 'cli-team'], { env });
    assert.equal(listed.code, 0, listed.stderr);
    assert.ok(!listed.stdout.includes(k.key), 'list shows no secret');
    const parsed = JSON.parse(listed.stdout);
    const data = Array.isArray(parsed) ? parsed : parsed.data;
    assert.deepEqual(data.map((e) => e.id), [k.id]);
    assert.equal(data[0].prefix, k.key.slice(0, 12));

    const revoked = await runToExit(['keys', 'revoke', '--config', cfg, '--id', k.id], { env });
    assert.equal(revoked.code, 0, revoked.stderr);
    t0 = performance.now();
    const gone = await pollUntil(async () => {
      const res = await openai(k.key);
      return res.status === 401 ? res : null;
    }, { timeoutMs: 2000, intervalMs: 50 });
    assert.ok(gone, 'the revocation reached the gateway within 2 s');
    assert.ok(performance.now() - t0 <= 1500 + 500, `seen after ${performance.now() - t0} ms`);
    assert.match(gone.json.error.message, /^This API key was revoked at /);
    assert.equal((await admin.get(`/admin/keys/${k.id}`)).json.status, 'revoked');
  });

  test('switchyard keys: bad arguments exit 2 with a message', async () => {
    const env = { [DEFAULT_KEY_ENV]: 'sk-test-upstream', [ADMIN_TOKEN_ENV]: ADMIN };
    const cfg = s.gw.configPath;
    const noTenant = await runToExit(['keys', 'create', '--config', cfg], { env });
    assert.equal(noTenant.code, 2, noTenant.stderr);
    assert.match(noTenant.stderr, /tenant/);
    const badBudget = await runToExit(['keys', 'create', '--config', cfg, '--tenant', 'cli-team',
      '--usd-per-day', '5.0.0'], { env });
    assert.equal(badBudget.code, 2, badBudget.stderr);
    assert.match(badBudget.stderr, /usd-per-day|usd_per_day/);
    const unknown = await runToExit(['keys', 'revoke', '--config', cfg, '--id', `key_${'9'.repeat(16)}`], { env });
    assert.equal(unknown.code, 2, unknown.stderr);
    assert.match(unknown.stderr, /key_9{16}/);
  });

  testCleanShutdown(() => s);
});

// count_tokens is not generation, but a model on an Anthropic provider sends it upstream with the
// gateway's own provider key: a key's allowed_models and allowed_profiles apply there too.
describe('count_tokens and a key\'s scope', () => {
  let s;
  let admin;
  const CLAUDE = 'claude-haiku-4.5';
  const providers = `  claude:
    kind: anthropic
    base_url: "\${EMULATOR_URL}/v1"
    api_key_env: ${DEFAULT_KEY_ENV}
`;
  const models = `  ${CLAUDE}:
    provider: claude
    price: {input: "1.00", output: "5.00"}
`;
  shareServe((o) => keysConfigYaml({ ...o, providers: providers.replace('${EMULATOR_URL}', o.emulatorUrl), models }),
    async (served) => {
      s = served;
      admin = adminApi(s.url, ADMIN);
    }, { env: { [ADMIN_TOKEN_ENV]: ADMIN } });

  const count = (key, model) => postJson(`${s.url}/v1/messages/count_tokens`,
    { model, messages: userMessage('how many tokens is this?') }, { headers: anthropicKey(key) });
  const counted = async () => (await emulator.requests(s.emulatorUrl))
    .filter((r) => /\/messages\/count_tokens$/.test(r.path)).length;

  test('a model the key may not use: 403, and no count reaches the upstream', async () => {
    const open = await admin.create({ tenant: 'counting', name: 'any' });
    const ok = await count(open.key, CLAUDE);
    assert.equal(ok.status, 200, ok.text);
    assert.equal(ok.headers.get('x-switchyard-token-count'), 'upstream');
    assert.equal(await counted(), 1);

    const scoped = await admin.create({ tenant: 'counting', name: 'scoped',
      allowed_models: ['deepseek-v4-flash'], allowed_profiles: ['cheap'] });
    const no = await count(scoped.key, CLAUDE);
    assertAnthropicError(no, 403, 'permission_error');
    assert.match(no.json.error.message,
      /^This key may not use model 'claude-haiku-4\.5'\. Allowed models: deepseek-v4-flash\.$/);
    assert.equal(await counted(), 1, 'the refused count never reached the upstream');
    assertAnthropicError(await count(scoped.key, 'auto'), 403, 'permission_error');
    assert.equal((await count(scoped.key, 'deepseek-v4-flash')).status, 200);
    assert.equal((await count(scoped.key, 'auto:cheap')).status, 200);
  });

  // Counts and explanations take from a bucket of their own, the size of requests_per_minute
  // (as Anthropic limits token counting apart from Messages): a key at its generation limit still
  // counts, and a key past its counting limit gets the generation limit's 429 and headers.
  test('count_tokens and explain: their own bucket of requests_per_minute, 429 with retry-after', async () => {
    await emulator.setProfile(s.emulatorUrl, 'deepseek-v4-flash', { ttft_ms: 1, tokens_per_s: 0 });
    const k = await admin.create({ tenant: 'counting-rpm', limits: { requests_per_minute: 2 } });
    const generate = () => messages(s.url, ping(), { headers: anthropicKey(k.key) });
    for (let i = 0; i < 2; ++i) assert.equal((await generate()).status, 200);
    const busy = await generate();
    assertAnthropicError(busy, 429, 'rate_limit_error');
    assert.match(busy.json.error.message, /allows 2 requests per minute/);

    const before = await counted();
    for (let i = 0; i < 2; ++i) {
      const ok = await count(k.key, CLAUDE);
      assert.equal(ok.status, 200, `a key at its generation limit still counts: ${ok.text}`);
      assert.equal(ok.headers.get('x-ratelimit-limit-requests'), '2');
      assert.equal(ok.headers.get('x-ratelimit-remaining-requests'), String(1 - i));
      assert.equal(ok.headers.get('x-ratelimit-limit-tokens'), null, 'counting spends no tokens');
    }
    assert.equal(await counted(), before + 2);

    const limited = await count(k.key, CLAUDE);
    assertAnthropicError(limited, 429, 'rate_limit_error');
    assert.match(limited.json.error.message,
      /^Rate limit reached: key key_\w+ \(tenant counting-rpm\) allows 2 token counts, route explanations, feedback, reports and stored-response calls per minute; try again in \d+(\.\d+)?s\.$/);
    assert.match(limited.headers.get('retry-after') ?? '', /^[1-9]\d*$/);
    assert.equal(limited.headers.get('x-ratelimit-limit-requests'), '2');
    assert.equal(limited.headers.get('x-ratelimit-remaining-requests'), '0');
    assert.match(limited.headers.get('x-ratelimit-reset-requests') ?? '', DURATION_RE);
    assert.equal(await counted(), before + 2, 'the refused count never reached the upstream');

    // Route explain shares the counting bucket, and answers in the dialect asked for.
    const explain = await postJson(`${s.url}/v1/route/explain`, ping(), { headers: bearer(k.key) });
    assertOpenAI(explain, 429, 'rate_limit_exceeded');
    assert.match(explain.json.error.message, /allows 2 token counts, route explanations, feedback, reports and stored-response calls per minute/);
    assert.match(explain.headers.get('retry-after') ?? '', /^[1-9]\d*$/);

    // So do feedback and the key's own reports (audit 3: a key over its limit wrote 15,105
    // feedback rows in 10 s), answered with the same 429.
    const fb = await postJson(`${s.url}/v1/feedback`, { request_id: 'req_none', outcome: 'success' },
      { headers: bearer(k.key) });
    assertOpenAI(fb, 429, 'rate_limit_exceeded');
    assert.match(fb.json.error.message, /allows 2 token counts, route explanations, feedback, reports and stored-response calls per minute/);
    for (const path of ['/v1/spend', '/v1/outcomes']) {
      const report = await fetch(`${s.url}${path}`, { headers: bearer(k.key) });
      assert.equal(report.status, 429, `${path}: ${await report.text()}`);
    }
    // And stored responses: each call holds a thread of the store's pool, which every key's
    // Responses answers are stored on.
    for (const method of ['GET', 'DELETE']) {
      const stored = await fetch(`${s.url}/v1/responses/resp_none`, { method, headers: bearer(k.key) });
      const text = await stored.text();
      assert.equal(stored.status, 429, `${method}: ${text}`);
      assert.match(JSON.parse(text).error.message, /stored-response calls per minute/);
    }

    // Another key of the tenant is not limited by this key's buckets.
    const other = await admin.create({ tenant: 'counting-rpm', limits: { requests_per_minute: 2 } });
    const explained = await postJson(`${s.url}/v1/route/explain`, ping(), { headers: bearer(other.key) });
    assert.equal(explained.status, 200, explained.text);
    assert.equal(explained.headers.get('x-ratelimit-remaining-requests'), '1');
    // An answered report carries the bucket's headers too.
    const spend = await fetch(`${s.url}/v1/spend`, { headers: bearer(other.key) });
    assert.equal(spend.status, 200, await spend.text());
    assert.equal(spend.headers.get('x-ratelimit-limit-requests'), '2');
    assert.equal(spend.headers.get('x-ratelimit-remaining-requests'), '0');

    // A stored response read by its key: the generation bucket stored it, the auxiliary one reads it.
    const reader = await admin.create({ tenant: 'counting-rpm-store', limits: { requests_per_minute: 2 } });
    const made = await postJson(`${s.url}/v1/responses`, { model: 'deepseek-v4-flash', input: 'ping' },
      { headers: bearer(reader.key) });
    assert.equal(made.status, 200, made.text);
    const read = await fetch(`${s.url}/v1/responses/${made.json.id}`, { headers: bearer(reader.key) });
    assert.equal(read.status, 200, await read.text());
    assert.equal(read.headers.get('x-ratelimit-limit-requests'), '2');
    assert.equal(read.headers.get('x-ratelimit-remaining-requests'), '1');
  });
});
