// The Anthropic Messages dialect over raw HTTP: the exact event sequence, error shapes and
// statuses, cache-priced costs to the cent, ledger rows of the same shape in every dialect
// combination, streams cut mid-way, and the model list in Anthropic's shape.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';

import {
  ANTHROPIC_HEADERS, DECIMAL_RE, chat, emulator, getJson, ledgerRows, messages, postJson,
  shareDemo, sqlite, streamChat, streamMessages, userMessage,
} from '../testutil/harness.mjs';

const CLAUDE = 'claude-opus-4.7';  // cached input 0.50, input 5.00, output 25.00 per 1M
const FLASH = 'deepseek-v4-flash';

function assertAnthropicError(res, status, type) {
  assert.equal(res.status, status, JSON.stringify(res.json));
  assert.equal(res.json?.type, 'error', JSON.stringify(res.json));
  assert.equal(res.json.error?.type, type, JSON.stringify(res.json));
  assert.equal(typeof res.json.error.message, 'string');
  assert.ok(res.json.error.message.length > 0);
}

const eventNames = (res) => res.events.map((e) => e.event);

// The event grammar of an Anthropic stream: message_start, ping somewhere, blocks opened,
// delta'd and closed in order, message_delta, message_stop last.
function assertAnthropicStream(res) {
  const names = eventNames(res);
  assert.equal(names[0], 'message_start', names.join(','));
  assert.ok(names.includes('ping'), names.join(','));
  assert.equal(names.at(-1), 'message_stop', names.join(','));
  assert.equal(names.at(-2), 'message_delta', names.join(','));
  let open = null;
  for (const e of res.events) {
    assert.equal(e.json?.type, e.event, `data.type matches the event name: ${e.data}`);
    if (e.event === 'content_block_start') {
      assert.equal(open, null, 'one block open at a time');
      open = e.json.index;
    } else if (e.event === 'content_block_delta') {
      assert.equal(e.json.index, open, 'deltas belong to the open block');
    } else if (e.event === 'content_block_stop') {
      assert.equal(e.json.index, open);
      open = null;
    }
  }
  assert.equal(open, null, 'every block closed');
}

describe('Anthropic dialect', () => {
  let demo;
  shareDemo(async (d) => {
    demo = d;
  });

  for (const model of [CLAUDE, FLASH]) {
    test(`stream to ${model}: the full event sequence, cost in message_delta and trailer`, async () => {
      const res = await streamMessages(demo.url, {
        model, max_tokens: 64, stream: true, messages: userMessage('Tell me about rivers'),
      });
      assert.equal(res.status, 200, res.raw);
      assert.match(res.headers['content-type'] ?? '', /text\/event-stream/);
      assertAnthropicStream(res);
      const delta = res.events.find((e) => e.event === 'message_delta').json;
      assert.equal(delta.delta.stop_reason, 'end_turn');
      assert.ok(delta.usage.output_tokens > 0);
      // Input counts come in message_start, and (newer API versions, and always when
      // translated) again in message_delta.
      const start = res.events[0].json.message.usage;
      assert.ok((delta.usage.input_tokens ?? start.input_tokens) > 0, JSON.stringify(delta.usage));
      assert.match(delta.usage.cost_usd ?? '', DECIMAL_RE);
      assert.equal(res.trailers['x-switchyard-cost-usd'], delta.usage.cost_usd);
      const [row] = await ledgerRows(demo.dbPath, [res.headers['x-switchyard-request-id']]);
      assert.equal(row.dialect, 'anthropic');
      assert.equal(row.endpoint, '/v1/messages');
      assert.equal(row.chosen_model, model);
      assert.equal(row.cost_usd, delta.usage.cost_usd);
      assert.equal(row.output_tokens, delta.usage.output_tokens);
      assert.ok(row.ttft_ms !== null);
    });
  }

  test('cache read and cache write are priced as the catalog says, to the pico-dollar', async () => {
    const long = 'The quick brown fox jumps over the lazy dog. '.repeat(300);
    const body = {
      model: CLAUDE, max_tokens: 16,
      system: [{ type: 'text', text: long, cache_control: { type: 'ephemeral' } }],
      messages: userMessage('Summarise.'),
    };
    const first = await messages(demo.url, body);
    const second = await messages(demo.url, body);
    assert.equal(first.status, 200, JSON.stringify(first.json));
    assert.ok(first.json.usage.cache_creation_input_tokens > 0, JSON.stringify(first.json.usage));
    assert.ok(second.json.usage.cache_read_input_tokens > 0, JSON.stringify(second.json.usage));
    const ids = [first, second].map((r) => r.headers.get('x-switchyard-request-id'));
    const rows = await ledgerRows(demo.dbPath, ids);
    for (const res of [first, second]) {
      const u = res.json.usage;
      const row = rows.find((r) => r.request_id === res.headers.get('x-switchyard-request-id'));
      assert.equal(row.input_tokens,
        u.input_tokens + u.cache_read_input_tokens + u.cache_creation_input_tokens);
      assert.equal(row.cached_input_tokens, u.cache_read_input_tokens);
      assert.equal(row.cache_write_input_tokens, u.cache_creation_input_tokens);
      // Hand calculation in pico-dollars: price per 1M tokens = pico per token * 1e6 / 1e12.
      const pico = BigInt(u.input_tokens) * 5_000_000n + BigInt(u.cache_read_input_tokens) * 500_000n +
        BigInt(u.cache_creation_input_tokens) * 5_000_000n + BigInt(u.output_tokens) * 25_000_000n;
      assert.equal(BigInt(row.cost_pico), pico);
      assert.equal(res.headers.get('x-switchyard-cost-usd'), row.cost_usd);
    }
  });

  test('ledger rows have the same shape whichever dialect came in and went out', async () => {
    const answers = [
      await chat(demo.url, { model: FLASH, messages: userMessage() }),
      await chat(demo.url, { model: CLAUDE, messages: userMessage() }),
      await messages(demo.url, { model: CLAUDE, max_tokens: 32, messages: userMessage() }),
      await messages(demo.url, { model: FLASH, max_tokens: 32, messages: userMessage() }),
    ];
    for (const a of answers) assert.equal(a.status, 200, JSON.stringify(a.json));
    const ids = answers.map((a) => a.headers.get('x-switchyard-request-id'));
    const rows = await ledgerRows(demo.dbPath, ids);
    const shape = (row) => Object.fromEntries(Object.entries(row)
      .filter(([k]) => !['id'].includes(k))
      .map(([k, v]) => [k, v === null ? 'null' : typeof v]));
    for (const row of rows) {
      assert.deepEqual(shape(row), shape(rows[0]));
      assert.equal(row.usage_reported, 1);
      assert.ok(BigInt(row.cost_pico) > 0n);
      assert.equal(row.status, 200);
      assert.equal(row.error_code, '');
    }
    assert.deepEqual(rows.map((r) => r.dialect).sort(), ['anthropic', 'anthropic', 'openai', 'openai']);
    const attempts = await sqlite(demo.dbPath,
      `SELECT request_id, http_status, error_code FROM attempts WHERE request_id IN (${ids.map((i) => `'${i}'`).join(',')})`);
    assert.equal(attempts.length, 4);
    for (const a of attempts) assert.equal(a.http_status, 200);
  });

  test('anthropic-beta reaches an Anthropic upstream and is dropped when translating', async () => {
    const beta = { headers: { 'anthropic-beta': 'context-1m-2025-08-07' } };
    assert.equal((await messages(demo.url, { model: CLAUDE, max_tokens: 8, messages: userMessage() },
      beta)).status, 200);
    assert.equal((await messages(demo.url, { model: FLASH, max_tokens: 8, messages: userMessage() },
      beta)).status, 200);
    const sent = await emulator.requests(demo.emulatorUrl);
    const toClaude = sent.find((r) => /\/messages$/.test(r.path));
    const toFlash = sent.find((r) => /chat\/completions$/.test(r.path));
    assert.equal(toClaude.headers['anthropic-beta'], 'context-1m-2025-08-07');
    assert.equal(toFlash.headers['anthropic-beta'], undefined);
  });

  test('bad input: Anthropic error shapes and statuses, each with a ledger row', async () => {
    const cases = [
      [await postJson(`${demo.url}/v1/messages`, '{"model":', { headers: ANTHROPIC_HEADERS }), 400,
        'invalid_request_error'],
      [await messages(demo.url, { model: CLAUDE, messages: userMessage() }), 400, 'invalid_request_error'],
      [await messages(demo.url, { model: 'claude-9', max_tokens: 5, messages: userMessage() }), 404,
        'not_found_error'],
      [await messages(demo.url, { model: CLAUDE, max_tokens: 5,
        messages: [{ role: 'user', content: [{ type: 'image', source: { type: 'base64',
          media_type: 'image/bmp', data: 'AA==' } }] }] }), 400, 'invalid_request_error'],
      [await postJson(`${demo.url}/v1/messages`, 'x'.repeat(9 * 1024 * 1024),
        { headers: ANTHROPIC_HEADERS }), 413, 'request_too_large'],
      // The head is refused before Beast parses it; the request line still names the dialect.
      [await messages(demo.url, { model: CLAUDE, max_tokens: 5, messages: userMessage() },
        { headers: { 'x-padding': 'a'.repeat(70 * 1024) } }), 431, 'request_too_large'],
    ];
    for (const [res, status, type] of cases) assertAnthropicError(res, status, type);
    assert.match(cases[1][0].json.error.message, /max_tokens/);
    assert.match(cases[3][0].json.error.message, /media_type/);
    const ids = cases.map(([res]) => res.headers.get('x-switchyard-request-id'));
    const rows = await ledgerRows(demo.dbPath, ids);
    assert.equal(rows.length, cases.length);
    for (const row of rows) assert.equal(row.dialect, 'anthropic');
  });

  test('an unknown endpoint answers in the dialect of the anthropic-version header', async () => {
    const anthropic = await postJson(`${demo.url}/v1/nope`, {}, { headers: ANTHROPIC_HEADERS });
    assertAnthropicError(anthropic, 404, 'not_found_error');
    const openai = await postJson(`${demo.url}/v1/nope`, {});
    assert.equal(openai.status, 404);
    assert.equal(typeof openai.json.error?.message, 'string');
    assert.equal(openai.json.type, undefined);
  });

  test('a request Anthropic cannot express is refused before anything is sent', async () => {
    const res = await chat(demo.url, { model: CLAUDE, messages: userMessage(), logit_bias: { 42: 1 } });
    assert.equal(res.status, 400, JSON.stringify(res.json));
    assert.equal(res.json.error.param, 'logit_bias');
    const sent = await emulator.requests(demo.emulatorUrl);
    assert.equal(sent.filter((r) => /messages$/.test(r.path)).length, 0);
  });

  // Regression: an error about a parameter named the one the request was translated into
  // (Chat's `stop`), not the one the client sent (`stop_sequences`).
  test('an error names the parameter as the client sent it, across a translation', async () => {
    // Our own refusal on the second hop (Messages -> Chat -> Responses): no stop sequences there.
    const refused = await messages(demo.url, { model: 'gpt-5.5-pro', max_tokens: 16,
      stop_sequences: ['END'], messages: userMessage() });
    assertAnthropicError(refused, 400, 'invalid_request_error');
    assert.match(refused.json.error.message, /^stop_sequences: /);
    assert.doesNotMatch(refused.json.error.message, /'stop'/);
    // Its advice too (it said "Omit stop and ...", Chat's name).
    assert.match(refused.json.error.message, /Omit 'stop_sequences' and cut the answer yourself/);
    // An OpenAI-compatible upstream's 400 names its own `stop` in error.param.
    await emulator.addFault(demo.emulatorUrl, { model: FLASH, status: 400, count: 1,
      message: "Invalid 'stop': a stop sequence is too long.", param: 'stop' });
    const upstream = await messages(demo.url, { model: FLASH, max_tokens: 16,
      stop_sequences: ['END'], messages: userMessage() });
    assertAnthropicError(upstream, 400, 'invalid_request_error');
    assert.match(upstream.json.error.message, /^stop_sequences: .*Invalid 'stop'/);
    // The other way: an Anthropic upstream's message leads with its `max_tokens`.
    await emulator.addFault(demo.emulatorUrl, { model: CLAUDE, status: 400, count: 1,
      message: 'max_tokens: 64 > 32, which is the maximum allowed number of output tokens' });
    const openai = await chat(demo.url, { model: CLAUDE, max_completion_tokens: 64,
      messages: userMessage() });
    assert.equal(openai.status, 400, JSON.stringify(openai.json));
    assert.equal(openai.json.error.param, 'max_completion_tokens');
    assert.match(openai.json.error.message, /max_tokens: 64 > 32/);
  });

  test('a chain crossing dialects skips the model that cannot express the request', async () => {
    // frontier = [claude-opus-4.7, gpt-5.5]; n = 2 is OpenAI-only.
    const res = await chat(demo.url, { model: 'frontier', n: 2, messages: userMessage() });
    assert.equal(res.status, 200, JSON.stringify(res.json));
    assert.equal(res.headers.get('x-switchyard-model'), 'gpt-5.5');
    assert.equal(res.json.choices.length, 2);
    const id = res.headers.get('x-switchyard-request-id');
    await ledgerRows(demo.dbPath, [id]);
    const attempts = await sqlite(demo.dbPath,
      `SELECT model, error_code, error_message FROM attempts WHERE request_id = '${id}' ORDER BY idx`);
    assert.equal(attempts[0].model, CLAUDE);
    assert.equal(attempts[0].error_code, 'skipped');
    assert.match(attempts[0].error_message, /\bn\b/);
  });

  test('a fallback in another dialect is translated only when the chain reaches it', async () => {
    // long-context = [gemini-3.1-pro (OpenAI API), claude-opus-4.7]; logit_bias is OpenAI-only.
    // Gemini answers, so Claude is never reached: no translation, no skipped attempt for it.
    const res = await chat(demo.url, {
      model: 'long-context', logit_bias: { 42: 1 }, messages: userMessage(),
    });
    assert.equal(res.status, 200, JSON.stringify(res.json));
    assert.equal(res.headers.get('x-switchyard-model'), 'gemini-3.1-pro');
    const id = res.headers.get('x-switchyard-request-id');
    await ledgerRows(demo.dbPath, [id]);
    const attempts = await sqlite(demo.dbPath,
      `SELECT model, outcome FROM attempts WHERE request_id = '${id}' ORDER BY idx`);
    assert.deepEqual(attempts.map((a) => [a.model, a.outcome]), [['gemini-3.1-pro', 'ok']]);
  });

  test('failover before the first byte crosses dialects in a stream (Claude 529 -> GPT-5.5)', async () => {
    await emulator.addFault(demo.emulatorUrl, { model: CLAUDE, status: 529, count: 3 });
    const res = await streamMessages(demo.url, {
      model: 'frontier', max_tokens: 32, stream: true, messages: userMessage(),
    });
    assert.equal(res.status, 200, res.raw);
    assert.equal(res.headers['x-switchyard-model'], 'gpt-5.5');
    assert.equal(res.headers['x-switchyard-attempts'], '2');
    assertAnthropicStream(res);
  });

  for (const [name, send, model] of [
    ['Anthropic client, Anthropic model', streamMessages, CLAUDE],
    ['Anthropic client, OpenAI model', streamMessages, FLASH],
  ]) {
    test(`a stream cut mid-way ends with an Anthropic error event (${name})`, async () => {
      await emulator.addFault(demo.emulatorUrl, { model, kind: 'reset', after_tokens: 5, count: 1 });
      const res = await send(demo.url, { model, max_tokens: 64, stream: true,
        messages: userMessage('Tell me a long story') });
      assert.equal(res.status, 200);
      const last = res.events.at(-1);
      assert.equal(last.event, 'error', res.raw);
      assert.equal(last.json.type, 'error');
      assert.equal(typeof last.json.error.type, 'string');
      assert.ok(!eventNames(res).includes('message_stop'), 'no fabricated message_stop');
      const [row] = await ledgerRows(demo.dbPath, [res.headers['x-switchyard-request-id']]);
      assert.match(row.error_message, /stream interrupted/);
    });
  }

  test('an OpenAI client streaming from Claude gets chunks and [DONE]; a cut gets an error chunk', async () => {
    const ok = await streamChat(demo.url, { model: CLAUDE, stream: true, messages: userMessage() });
    assert.equal(ok.status, 200);
    assert.equal(ok.events.at(-1).data, '[DONE]');
    assert.ok(ok.events.slice(0, -1).every((e) => e.json?.object === 'chat.completion.chunk'));
    await emulator.addFault(demo.emulatorUrl, { model: CLAUDE, kind: 'reset', after_tokens: 5, count: 1 });
    const cut = await streamChat(demo.url, { model: CLAUDE, stream: true,
      messages: userMessage('Tell me a long story') });
    assert.ok(cut.events.at(-1).json?.error, cut.raw);
    assert.notEqual(cut.events.at(-1).data, '[DONE]');
  });

  test('GET /v1/models answers in the dialect the client speaks', async () => {
    const anthropic = await fetch(`${demo.url}/v1/models?limit=2`, { headers: ANTHROPIC_HEADERS });
    const page = await anthropic.json();
    assert.equal(page.data.length, 2);
    assert.equal(page.has_more, true);
    assert.equal(page.first_id, page.data[0].id);
    assert.equal(page.last_id, page.data[1].id);
    assert.equal(page.data[0].type, 'model');
    assert.match(page.data[0].created_at, /^\d{4}-\d\d-\d\dT/);
    const next = await (await fetch(`${demo.url}/v1/models?limit=2&after_id=${page.last_id}`,
      { headers: ANTHROPIC_HEADERS })).json();
    assert.notEqual(next.data[0].id, page.data[1].id);
    const openai = await getJson(`${demo.url}/v1/models`);
    assert.equal(openai.json.object, 'list');
    assert.equal(openai.json.data[0].object, 'model');
    const missing = await fetch(`${demo.url}/v1/models/claude-9`, { headers: ANTHROPIC_HEADERS });
    assert.equal(missing.status, 404);
    assert.equal((await missing.json()).error.type, 'not_found_error');
    const bad = await fetch(`${demo.url}/v1/models?limit=0`, { headers: ANTHROPIC_HEADERS });
    assert.equal(bad.status, 400);
  });
});
