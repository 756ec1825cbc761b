// Upstream faults injected through the emulator's control API, each answered by the right
// failover or the right error. Each test runs its own gateway, so no cool-down leaks between them.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';

import {
  assertOpenAIError, chat, emulator, ledgerRows, modelRequests, sanitizerReports, sqlite, startDemo,
  streamChat, streamedText, userMessage, freshServe,
} from '../testutil/harness.mjs';

const ECONOMY = ['deepseek-v4-flash', 'kimi-k2.6', 'gpt-5.5'];

// A fresh demo for one test, stopped (exit 0, no sanitizer reports) when the test ends.
async function freshDemo(t) {
  const demo = await startDemo();
  t.after(async () => {
    const result = await demo.stop();
    demo.cleanup();
    assert.deepEqual(sanitizerReports(result.stderr), []);
    assert.equal(result.code, 0, `demo exit code; stderr:\n${result.stderr}`);
  });
  return demo;
}

async function upstreamModels(emulatorUrl) {
  return modelRequests(await emulator.requests(emulatorUrl)).map((r) => r.body?.model);
}

async function attemptRows(dbPath, requestId) {
  await ledgerRows(dbPath, [requestId]);
  return sqlite(dbPath,
    `SELECT idx, model, http_status, error_code, cost_pico, usage_estimated, input_tokens
       FROM attempts WHERE request_id = '${requestId}' ORDER BY idx`);
}

// A failed attempt the upstream refused with an error status: not billed, recorded at zero.
function assertRefusedAtNoCost(attempt) {
  assert.equal(attempt.cost_pico, 0, JSON.stringify(attempt));
  assert.equal(attempt.usage_estimated, 0, JSON.stringify(attempt));
}

// A failed attempt the upstream had whole and did not refuse: it may have billed the prompt, so
// the ledger carries the prompt's estimate (a quarter token per byte sent), priced.
function assertPromptEstimated(attempt) {
  assert.equal(attempt.usage_estimated, 1, JSON.stringify(attempt));
  assert.ok(attempt.input_tokens > 0, JSON.stringify(attempt));
  assert.ok(attempt.cost_pico > 0, JSON.stringify(attempt));
}

// Injects `fault` on deepseek-v4-flash and expects economy to be answered by kimi-k2.6.
async function expectFailoverToKimi(t, fault, { firstErrorCode } = {}) {
  const demo = await freshDemo(t);
  await emulator.addFault(demo.emulatorUrl, { model: 'deepseek-v4-flash', count: 1, ...fault });
  const res = await chat(demo.url, { model: 'economy', messages: userMessage() });
  assert.equal(res.status, 200, res.text);
  assert.equal(res.headers.get('x-switchyard-model'), 'kimi-k2.6');
  assert.equal(res.headers.get('x-switchyard-provider'), 'moonshot');
  assert.equal(res.headers.get('x-switchyard-attempts'), '2');
  assert.ok(res.json.choices[0].message.content.length > 0);
  assert.deepEqual(await upstreamModels(demo.emulatorUrl), ['deepseek-v4-flash', 'kimi-k2.6']);
  const attempts = await attemptRows(demo.dbPath, res.headers.get('x-switchyard-request-id'));
  assert.deepEqual(attempts.map((a) => a.model), ['deepseek-v4-flash', 'kimi-k2.6']);
  if (firstErrorCode) assert.equal(attempts[0].error_code, firstErrorCode);
  assert.equal(attempts[1].error_code, '');
  return { demo, res, attempts };
}

describe('upstream faults', () => {
  test('429 + retry_after on the first alias member -> answered by the next', async (t) => {
    const { attempts } = await expectFailoverToKimi(t, { status: 429, retry_after_s: 1 },
      { firstErrorCode: 'rate_limited' });
    assert.equal(attempts[0].http_status, 429);
    assertRefusedAtNoCost(attempts[0]);
  });

  test('500 -> failover', async (t) => {
    const { attempts } = await expectFailoverToKimi(t, { status: 500 },
      { firstErrorCode: 'upstream_unavailable' });
    assert.equal(attempts[0].http_status, 500);
    assertRefusedAtNoCost(attempts[0]);
  });

  test('503 -> failover', async (t) => {
    const { attempts } = await expectFailoverToKimi(t, { status: 503 },
      { firstErrorCode: 'upstream_unavailable' });
    assert.equal(attempts[0].http_status, 503);
  });

  test('connection reset after the request -> failover, the lost attempt estimated', async (t) => {
    const { attempts } = await expectFailoverToKimi(t, { kind: 'reset' },
      { firstErrorCode: 'upstream_unavailable' });
    assertPromptEstimated(attempts[0]);
  });

  test('malformed upstream answer -> failover, the unreadable attempt estimated', async (t) => {
    const { attempts } = await expectFailoverToKimi(t, { kind: 'malformed' },
      { firstErrorCode: 'upstream_unavailable' });
    assertPromptEstimated(attempts[0]);
  });

  test('500 before the first streamed byte -> the stream is served by the next model', async (t) => {
    const demo = await freshDemo(t);
    await emulator.addFault(demo.emulatorUrl, { model: 'deepseek-v4-flash', status: 500, count: 1 });
    const res = await streamChat(demo.url, { model: 'economy', stream: true, messages: userMessage() });
    assert.equal(res.status, 200, res.raw);
    assert.equal(res.headers['x-switchyard-model'], 'kimi-k2.6');
    assert.equal(res.headers['x-switchyard-attempts'], '2');
    assert.equal(res.events.at(-1).data, '[DONE]');
    assert.ok(streamedText(res.events).length > 0);
  });

  test('timeout -> failover after the provider first-byte timeout (serve, short timeouts)', async (t) => {
    const FIRST_BYTE_MS = 500;
    const { gw, emu, dbPath } = await freshServe(t,
      { timeouts: { connect_ms: 1000, first_byte_ms: FIRST_BYTE_MS, idle_ms: 2000 } });
    await emulator.addFault(emu.url, { model: 'deepseek-v4-flash', kind: 'timeout', count: 1 });
    const started = performance.now();
    const res = await chat(gw.url, { model: 'economy', messages: userMessage() });
    const elapsed = performance.now() - started;
    assert.equal(res.status, 200, res.text);
    assert.equal(res.headers.get('x-switchyard-model'), 'kimi-k2.6');
    assert.equal(res.headers.get('x-switchyard-attempts'), '2');
    assert.ok(elapsed >= FIRST_BYTE_MS * 0.9, `waited for the first-byte timeout (${elapsed.toFixed(0)} ms)`);
    assert.ok(elapsed < FIRST_BYTE_MS + 5000, `but not much longer (${elapsed.toFixed(0)} ms)`);
    const attempts = await attemptRows(dbPath, res.headers.get('x-switchyard-request-id'));
    assert.equal(attempts[0].model, 'deepseek-v4-flash');
    assert.equal(attempts[0].error_code, 'upstream_timeout');
    assert.equal(attempts[0].http_status, 0);
    assertPromptEstimated(attempts[0]);
  });

  test('a stream reset before its head -> the next model, the lost attempt estimated', async (t) => {
    const demo = await freshDemo(t);
    await emulator.addFault(demo.emulatorUrl, { model: 'deepseek-v4-flash', kind: 'reset', count: 1 });
    const res = await streamChat(demo.url, { model: 'economy', stream: true, messages: userMessage() });
    assert.equal(res.status, 200, res.raw);
    assert.equal(res.headers['x-switchyard-model'], 'kimi-k2.6');
    assert.equal(res.events.at(-1).data, '[DONE]');
    const attempts = await attemptRows(demo.dbPath, res.headers['x-switchyard-request-id']);
    assert.deepEqual(attempts.map((a) => a.model), ['deepseek-v4-flash', 'kimi-k2.6']);
    assert.equal(attempts[0].error_code, 'upstream_unavailable');
    assertPromptEstimated(attempts[0]);
    const [row] = await ledgerRows(demo.dbPath, [res.headers['x-switchyard-request-id']]);
    assert.equal(row.cost_pico, attempts[0].cost_pico + attempts[1].cost_pico,
      'the request costs both attempts');
  });

  test('slow upstream -> still answered by it', async (t) => {
    const demo = await freshDemo(t);
    await emulator.addFault(demo.emulatorUrl, { model: 'deepseek-v4-flash', kind: 'slow', count: 1 });
    const res = await chat(demo.url, { model: 'economy', messages: userMessage() });
    assert.equal(res.status, 200, res.text);
    assert.equal(res.headers.get('x-switchyard-model'), 'deepseek-v4-flash');
    assert.equal(res.headers.get('x-switchyard-attempts'), '1');
  });

  test('direct model, one 429 with retry_after 1 s -> the gateway waits and retries it', async (t) => {
    const demo = await freshDemo(t);
    await emulator.addFault(demo.emulatorUrl,
      { model: 'gpt-5.5', status: 429, count: 1, retry_after_s: 1 });
    const started = performance.now();
    const res = await chat(demo.url, { model: 'gpt-5.5', messages: userMessage() });
    const elapsed = performance.now() - started;
    assert.equal(res.status, 200, res.text);
    assert.equal(res.headers.get('x-switchyard-model'), 'gpt-5.5');
    assert.equal(res.headers.get('x-switchyard-attempts'), '2');
    assert.match(res.headers.get('x-switchyard-route') ?? '', /^profile=none; rule=model gpt-5.5; task=/);
    assert.ok(elapsed >= 900, `honoured retry-after (${elapsed.toFixed(0)} ms)`);
    assert.deepEqual(await upstreamModels(demo.emulatorUrl), ['gpt-5.5', 'gpt-5.5']);
  });

  test('every economy member fails with 500 -> 502 OpenAI error listing what was tried', async (t) => {
    const demo = await freshDemo(t);
    for (const model of ECONOMY) {
      await emulator.addFault(demo.emulatorUrl, { model, status: 500, count: 10 });
    }
    const res = await chat(demo.url, { model: 'economy', messages: userMessage() });
    assert.equal(res.status, 502, res.text);
    assertOpenAIError(assert, res.json, { status: 502 });
    for (const model of ECONOMY) assert.match(res.json.error.message, new RegExp(model.replace(/\./g, '\\.')));
    assert.equal(res.headers.get('x-switchyard-attempts'), '3');
    assert.equal(res.headers.get('x-switchyard-model'), null);
    assert.equal(res.headers.get('x-switchyard-cost-usd'), null);
    const [row] = await ledgerRows(demo.dbPath, [res.headers.get('x-switchyard-request-id')]);
    assert.equal(row.status, 502);
    assert.equal(row.chosen_model, '');
    assert.equal(row.attempts_count, 3);
    assert.equal(row.cost_pico, 0);
  });

  test('every economy member answers 429 -> 429 rate_limit_error listing what was tried', async (t) => {
    const demo = await freshDemo(t);
    for (const model of ECONOMY) {
      await emulator.addFault(demo.emulatorUrl, { model, status: 429, count: 10 });
    }
    const res = await chat(demo.url, { model: 'economy', messages: userMessage() });
    assert.equal(res.status, 429, res.text);
    assertOpenAIError(assert, res.json, { status: 429, type: 'rate_limit_error' });
    for (const model of ECONOMY) assert.match(res.json.error.message, new RegExp(model.replace(/\./g, '\\.')));
  });

  // Checks a stream that an upstream fault interrupted after it had started.
  async function expectInterruptedStream(res, emulatorUrl, dbPath) {
    assert.equal(res.status, 200, res.raw);
    assert.equal(res.headers['x-switchyard-model'], 'deepseek-v4-flash');
    const datas = res.events.map((e) => e.data);
    assert.ok(!datas.includes('[DONE]'), `no [DONE] after a failed stream: ${res.raw}`);
    const errorIdx = res.events.findIndex((e) => e.json?.error);
    assert.ok(errorIdx > 0, `an error event after some content: ${res.raw}`);
    assert.equal(errorIdx, res.events.length - 1, 'the error event is the last event');
    assertOpenAIError(assert, res.events[errorIdx].json);
    const before = res.events.slice(0, errorIdx);
    assert.ok(streamedText(before).length > 0, 'the client had received content before the error');
    // No other model's content: every chunk names the model that started the stream, and the
    // emulator was asked exactly once.
    for (const e of before) {
      assert.equal(e.json?.model, 'deepseek-v4-flash', `chunk from another model: ${e.data}`);
    }
    assert.deepEqual(await upstreamModels(emulatorUrl), ['deepseek-v4-flash']);
    const [row] = await ledgerRows(dbPath, [res.headers['x-switchyard-request-id']]);
    assert.notEqual(row.error_code, '', 'the ledger records the interrupted stream');
    assert.equal(row.chosen_model, 'deepseek-v4-flash');
    return { error: res.events[errorIdx].json.error, row };
  }

  for (const kind of ['reset', 'malformed']) {
    test(`${kind} mid-stream -> content, then an error event, no [DONE], no silent switch`, async (t) => {
      const demo = await freshDemo(t);
      await emulator.setProfile(demo.emulatorUrl, 'deepseek-v4-flash', { ttft_ms: 10, tokens_per_s: 200 });
      await emulator.addFault(demo.emulatorUrl,
        { model: 'deepseek-v4-flash', kind, count: 1, after_tokens: 3 });
      const res = await streamChat(demo.url, {
        model: 'economy', stream: true, max_tokens: 30, messages: userMessage('Tell me a story.'),
      });
      await expectInterruptedStream(res, demo.emulatorUrl, demo.dbPath);
    });
  }

  test('upstream goes silent mid-stream -> error event after the idle timeout (serve)', async (t) => {
    const IDLE_MS = 400;
    const { gw, emu, dbPath } = await freshServe(t,
      { timeouts: { connect_ms: 1000, first_byte_ms: 2000, idle_ms: IDLE_MS } });
    await emulator.addFault(emu.url,
      { model: 'deepseek-v4-flash', kind: 'timeout', count: 1, after_tokens: 3 });
    const res = await streamChat(gw.url, {
      model: 'economy', stream: true, max_tokens: 30, messages: userMessage('Tell me a story.'),
    }, { timeoutMs: 15000 });
    const { error, row } = await expectInterruptedStream(res, emu.url, dbPath);
    assert.equal(error.code, 'upstream_timeout', JSON.stringify(error));
    assert.equal(row.error_code, 'upstream_timeout');
  });
});
