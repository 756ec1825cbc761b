// The response cache (a routing rule's `cache: {ttl_s}`), in one gateway (the in-process store):
// the second identical request is answered from the cache, at no cost, marked, recorded in the
// ledger, without calling the model; a stream is replayed as a stream; fields that do not change
// the answer (user, metadata) do not matter, fields that do (a message,
// temperature) do; tenants never share an entry; a rule without `cache` never hits; the keys of a
// tenant share its entries, unless the rule says `scope: key`.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';

import {
  ADMIN_TOKEN_ENV, adminApi, anthropicKey, bearer, chat, emulator, keysConfigYaml, ledgerRows,
  messages, modelRequests, shareServe, streamChat, userMessage,
} from '../testutil/harness.mjs';

const ADMIN = 'cache-test-admin-token-0123456789';

// keysConfigYaml's profiles plus `cached`, whose one rule caches for a minute.
function cacheConfig(o) {
  return keysConfigYaml(o).replace('    cheap:\n', `    cached:
      rules:
        - name: cached
          chain: [deepseek-v4-flash]
          cache: {ttl_s: 60}
    scoped:
      rules:
        - name: scoped
          chain: [kimi-k2.6, deepseek-v4-flash]
          cache: {ttl_s: 60}
    perkey:
      rules:
        - name: perkey
          chain: [deepseek-v4-flash]
          cache: {ttl_s: 60, scope: key}
    cheap:
`);
}

describe('the response cache', () => {
  let s;
  let keyA;
  let keyB;
  shareServe(cacheConfig, async (served) => {
    s = served;
    const admin = adminApi(s.url, ADMIN);
    keyA = (await admin.create({ tenant: 'tenant-a' })).key;
    keyB = (await admin.create({ tenant: 'tenant-b' })).key;
  }, { env: { [ADMIN_TOKEN_ENV]: ADMIN } });

  const body = (text, extra = {}) => ({
    model: 'auto:cached', max_tokens: 16, messages: userMessage(text), ...extra,
  });
  const upstreamCalls = async () => modelRequests(await emulator.requests(s.emulatorUrl)).length;

  test('the same request again is answered from the cache, at $0, without the model', async () => {
    const first = await chat(s.url, body('cache me', { user: 'u1' }), { headers: bearer(keyA) });
    assert.equal(first.status, 200, first.text);
    assert.equal(first.headers.get('x-switchyard-cache'), null);
    assert.notEqual(first.headers.get('x-switchyard-cost-usd'), '0');
    const again = await chat(s.url, body('cache me', { user: 'u2', metadata: { run: 'x' } }),
      { headers: bearer(keyA) });
    assert.equal(again.status, 200, again.text);
    assert.equal(again.headers.get('x-switchyard-cache'), 'hit');
    assert.equal(again.headers.get('x-switchyard-cost-usd'), '0');
    assert.equal(again.headers.get('x-switchyard-model'), 'deepseek-v4-flash');
    assert.match(again.headers.get('x-switchyard-cache-age'), /^\d+$/);
    assert.equal(again.text, first.text);
    assert.equal(await upstreamCalls(), 1, 'the model was called once');

    const ids = [first, again].map((r) => r.headers.get('x-switchyard-request-id'));
    const rows = await ledgerRows(s.dbPath, ids);
    const hit = rows.find((r) => r.request_id === ids[1]);
    assert.equal(Number(hit.cost_pico), 0);
    assert.equal(hit.status, 200);
    assert.equal(hit.chosen_model, 'deepseek-v4-flash');
    assert.match(hit.route_reason, /^cache hit; auto:cached|^cache hit; cached\//);

    const metrics = await (await fetch(`${s.url}/metrics`)).text();
    assert.match(metrics, /^switchyard_cache_lookups_total\{tenant="tenant-a",result="hit"\} 1$/m);
    assert.match(metrics, /^switchyard_cache_lookups_total\{tenant="tenant-a",result="miss"\} 1$/m);
  });

  test('what changes the answer, the tenant and a rule without cache all miss', async () => {
    const misses = [
      [body('cache me too'), keyA],
      [body('cache me too', { temperature: 0.2 }), keyA],
      [body('cache me too, please'), keyA],
      [body('cache me too'), keyB],  // another tenant
      [{ ...body('cache me too'), model: 'auto' }, keyA],  // its rule does not cache
      [{ ...body('cache me too'), model: 'auto' }, keyA],
    ];
    for (const [request, key] of misses) {
      const res = await chat(s.url, request, { headers: bearer(key) });
      assert.equal(res.status, 200, res.text);
      assert.equal(res.headers.get('x-switchyard-cache'), null, JSON.stringify(request));
    }
    assert.equal(await upstreamCalls(), misses.length);
  });

  test('a stream is replayed as a stream, with its cost at $0', async () => {
    const request = body('stream me', { stream: true, stream_options: { include_usage: true } });
    const first = await streamChat(s.url, request, { headers: bearer(keyA) });
    assert.equal(first.status, 200, first.raw);
    const again = await streamChat(s.url, { ...request, stream_options: { include_usage: true } },
      { headers: bearer(keyA) });
    assert.equal(again.status, 200, again.raw);
    assert.equal(again.headers['x-switchyard-cache'], 'hit');
    assert.match(again.headers['content-type'], /^text\/event-stream/);
    assert.equal(again.trailers['x-switchyard-cost-usd'], '0');
    const data = (res) => res.events.map((e) => e.data);
    assert.equal(data(again).length, data(first).length);
    assert.equal(again.events.at(-1).data, '[DONE]');
    const usage = again.events.find((e) => e.json?.usage)?.json.usage;
    assert.equal(usage.cost_usd, '0');
    assert.notEqual(first.events.find((e) => e.json?.usage)?.json.usage.cost_usd, '0');
    // The text is the same, chunk for chunk.
    const text = (res) => res.events.map((e) => e.json?.choices?.[0]?.delta?.content ?? '').join('');
    assert.equal(text(again), text(first));
    // A non-stream request with the same messages is not answered from the stream's entry.
    const plain = await chat(s.url, body('stream me'), { headers: bearer(keyA) });
    assert.equal(plain.headers.get('x-switchyard-cache'), null);
    assert.equal(await upstreamCalls(), 2);
  });

  test('a key is not served an answer of a model its allowed_models excludes', async () => {
    const admin = adminApi(s.url, ADMIN);
    const open = (await admin.create({ tenant: 'tenant-a' })).key;
    const narrow = (await admin.create({
      tenant: 'tenant-a', allowed_models: ['deepseek-v4-flash'],
    })).key;
    const request = { ...body('scoped cache'), model: 'auto:scoped' };
    const first = await chat(s.url, request, { headers: bearer(open) });
    assert.equal(first.status, 200, first.text);
    assert.equal(first.headers.get('x-switchyard-model'), 'kimi-k2.6');
    const before = await upstreamCalls();
    const again = await chat(s.url, request, { headers: bearer(narrow) });
    assert.equal(again.status, 200, again.text);
    assert.equal(again.headers.get('x-switchyard-cache'), null);
    assert.equal(again.headers.get('x-switchyard-model'), 'deepseek-v4-flash');
    assert.equal(await upstreamCalls(), before + 1);
    // Its own answer is then a hit for it.
    const third = await chat(s.url, request, { headers: bearer(narrow) });
    assert.equal(third.headers.get('x-switchyard-cache'), 'hit');
    assert.equal(third.headers.get('x-switchyard-model'), 'deepseek-v4-flash');
  });

  test('Anthropic clients get their own entries, in their own dialect', async () => {
    const request = { model: 'auto:cached', max_tokens: 16, messages: userMessage('anthropic cache') };
    const first = await messages(s.url, request, { headers: anthropicKey(keyA) });
    assert.equal(first.status, 200, first.text);
    const again = await messages(s.url, request, { headers: anthropicKey(keyA) });
    assert.equal(again.headers.get('x-switchyard-cache'), 'hit');
    assert.equal(again.json.type, 'message');
    assert.equal(again.text, first.text);
    assert.equal(await upstreamCalls(), 1);
    // anthropic-beta switches on features that change the answer: another beta, another entry.
    const beta = await messages(s.url, request,
      { headers: { ...anthropicKey(keyA), 'anthropic-beta': 'output-128k-2025-02-19' } });
    assert.equal(beta.status, 200, beta.text);
    assert.equal(beta.headers.get('x-switchyard-cache'), null);
    const betaAgain = await messages(s.url, request,
      { headers: { ...anthropicKey(keyA), 'anthropic-beta': 'output-128k-2025-02-19' } });
    assert.equal(betaAgain.headers.get('x-switchyard-cache'), 'hit');
    assert.equal(await upstreamCalls(), 2);
  });

  // Regression: the cache key covered the tenant only, so one key of a tenant learnt from a hit
  // that another key of it had sent the same prompt. Under `scope: key` each key has its own
  // entries; under the default `scope: tenant` they share them.
  test('two keys of a tenant share a hit under scope tenant, not under scope key', async () => {
    const admin = adminApi(s.url, ADMIN);
    const one = (await admin.create({ tenant: 'tenant-a' })).key;
    const two = (await admin.create({ tenant: 'tenant-a' })).key;
    const send = async (model, key) => {
      const res = await chat(s.url, { ...body('which key asked?'), model },
        { headers: bearer(key) });
      assert.equal(res.status, 200, res.text);
      return res.headers.get('x-switchyard-cache');
    };

    let before = await upstreamCalls();
    assert.equal(await send('auto:perkey', one), null);
    assert.equal(await send('auto:perkey', one), 'hit', 'a key hits its own entry');
    assert.equal(await send('auto:perkey', two), null, "not the other key's");
    assert.equal(await send('auto:perkey', two), 'hit');
    assert.equal(await upstreamCalls(), before + 2);

    before = await upstreamCalls();
    assert.equal(await send('auto:cached', one), null);
    assert.equal(await send('auto:cached', two), 'hit', 'the tenant scope shares it');
    assert.equal(await upstreamCalls(), before + 1);
  });
});
