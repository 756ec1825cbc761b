// Issue 15's holes in the request path, each reproduced against the real binary: shutdown cuts,
// echoed input, retry-after cool-downs, abandoned requests, out-of-range values.
import assert from 'node:assert/strict';
import http from 'node:http';
import { rmSync, statSync } from 'node:fs';
import path from 'node:path';
import { describe, test } from 'node:test';

import {
  chat, emulator, ledgerRows, messages, modelRequests, pollUntil, postJson, rawExchange,
  sanitizerReports, sqlite, startEmulator, startServe, streamChat, tempDir, testConfigYaml,
  userMessage,
} from '../testutil/harness.mjs';

// A `serve` gateway in front of its own emulator; stopped (exit 0, no sanitizer report) at the
// end of the test unless the test stopped it itself.
async function gateway(t, { server = {}, failover = {} } = {}) {
  const emu = await startEmulator();
  const dir = tempDir();
  const dbPath = path.join(dir, 'ledger.db');
  const gw = await startServe(testConfigYaml({ emulatorUrl: emu.url, dbPath, server, failover }));
  let stopped;
  t.after(async () => {
    const result = stopped ?? await gw.stop();
    await emu.stop();
    gw.cleanup();
    rmSync(dir, { recursive: true, force: true });
    assert.deepEqual(sanitizerReports(result.stderr), []);
    assert.equal(result.code, 0, result.stderr);
  });
  return {
    gw, emu, dbPath,
    async stop() {
      stopped = await gw.stop({ timeoutMs: 30000 });
      return stopped;
    },
  };
}

const MODEL = 'deepseek-v4-flash';

describe('shutdown', () => {
  test('requests still running at the end of the grace are cut, answered and recorded', async (t) => {
    const g = await gateway(t, { server: { shutdown_grace_ms: 300 } });
    // Two tokens a second: a 30-token answer takes 15 s, far beyond the grace.
    await emulator.setProfile(g.emu.url, MODEL, { ttft_ms: 0, tokens_per_s: 2 });
    let started = 0;
    let allStarted;
    const streaming = new Promise((resolve) => {
      allStarted = resolve;
    });
    const body = { model: 'economy', max_tokens: 30, messages: userMessage('A long answer.') };
    const streams = [0, 1, 2, 3].map(() => {
      let seen = false;
      return streamChat(g.gw.url, { ...body, stream: true }, {
        onEvent: (e) => {
          if (seen || !e.json?.choices?.[0]?.delta?.content) return;
          seen = true;
          if (++started === 4) allStarted();
        },
      });
    });
    const json = chat(g.gw.url, body);
    await streaming;
    await pollUntil(async () =>
      modelRequests(await emulator.requests(g.emu.url)).length === 5);
    const t0 = performance.now();
    const result = await g.stop();
    const stopMs = performance.now() - t0;

    assert.equal(result.code, 0, result.stderr);
    assert.ok(stopMs < 8000, `shutdown took ${stopMs} ms (grace 300 ms + the cut)`);
    for (const s of await Promise.all(streams)) {
      assert.equal(s.status, 200);
      const last = s.events.at(-1);
      assert.match(last?.json?.error?.message ?? '', /shutting down/, s.raw.slice(-400));
      assert.ok(s.complete, 'the chunked body was ended, not cut');
    }
    const answer = await json;
    assert.equal(answer.status, 503, answer.text);
    assert.match(answer.json.error.message, /shutting down/);
    assert.match(result.stderr, /5 ledger records written/);
    const rows = await sqlite(g.dbPath, `SELECT stream, status, error_code, usage_estimated,
      output_tokens, cost_pico FROM requests ORDER BY stream`);
    assert.equal(rows.length, 5);
    assert.deepEqual(rows.map((r) => [r.stream, r.status, r.error_code, r.usage_estimated]),
      [[0, 503, 'shutdown', 1], ...Array(4).fill([1, 200, 'shutdown', 1])]);
    for (const r of rows) assert.ok(r.cost_pico > 0, 'the tokens so far are costed');
    for (const r of rows.filter((x) => x.stream)) assert.ok(r.output_tokens > 0);
  });
});

describe('echoed input is bounded', () => {
  test('a huge model name, role or URL comes back cut, and the ledger row stays small', async (t) => {
    const g = await gateway(t);
    const huge = 'm'.repeat(4 * 1024 * 1024);
    const unknown = await chat(g.gw.url, { model: huge, messages: userMessage() });
    assert.equal(unknown.status, 404);
    assert.ok(unknown.text.length < 2048, `404 body of ${unknown.text.length} bytes`);
    assert.match(unknown.json.error.message, /\[cut, 4194304 bytes\]/);
    const unknownAnthropic = await messages(g.gw.url, { model: huge, max_tokens: 5,
      messages: userMessage() });
    assert.equal(unknownAnthropic.status, 404);
    assert.ok(unknownAnthropic.text.length < 2048);

    const role = await chat(g.gw.url, { model: 'economy', messages: [{ role: huge, content: 'x' }] });
    assert.equal(role.status, 400);
    assert.ok(role.text.length < 2048, `400 body of ${role.text.length} bytes`);

    const longPath = `/v1/${'p'.repeat(15000)}`;
    const url = await rawExchange(g.gw.url, [
      `GET ${longPath} HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n`]);
    assert.equal(url.response.status, 404);
    assert.ok(url.raw.length < 4096, `404 of ${url.raw.length} bytes`);

    await pollUntil(async () =>
      (await sqlite(g.dbPath, 'SELECT COUNT(*) AS n FROM requests'))[0].n === 4);
    const sizes = await sqlite(g.dbPath, `SELECT length(requested_model) + length(error_message)
      + length(endpoint) AS bytes FROM requests`);
    for (const { bytes } of sizes) assert.ok(bytes < 4096, `a ledger row holds ${bytes} bytes`);
    assert.ok(statSync(g.dbPath).size < 1024 * 1024);
  });
});

describe('retry-after', () => {
  test('a huge retry-after cools a model only up to failover.max_cooldown_ms', async (t) => {
    const g = await gateway(t, { failover: { max_cooldown_ms: 1500, max_retry_after_ms: 0 } });
    await emulator.addFault(g.emu.url, { model: '*', kind: 'status', status: 429, count: 3,
      retry_after_s: 100000000 });
    const first = await chat(g.gw.url, { model: 'economy', messages: userMessage() });
    assert.equal(first.status, 429);
    assert.ok(Number(first.headers.get('retry-after')) <= 2, first.headers.get('retry-after'));

    // Every model is cooling: answered by the gateway itself, with the time left.
    await emulator.clearRequests(g.emu.url);
    const cooling = await chat(g.gw.url, { model: 'economy', messages: userMessage() });
    assert.equal(cooling.status, 429);
    const left = Number(cooling.headers.get('retry-after'));
    assert.ok(left >= 1 && left <= 2, `retry-after: ${left}`);
    assert.equal(modelRequests(await emulator.requests(g.emu.url)).length, 0);

    // ...and the cool-down ends by itself (not in three years).
    await pollUntil(async () =>
      (await chat(g.gw.url, { model: 'economy', messages: userMessage() })).status === 200,
    { timeoutMs: 6000, intervalMs: 250 });
  });
});

// Sends a non-streamed request and destroys the socket once the emulator has it.
function abandonedJson(gatewayUrl, body, isReceived) {
  const url = new URL(`${gatewayUrl}/v1/chat/completions`);
  const payload = JSON.stringify(body);
  return new Promise((resolve, reject) => {
    const req = http.request({ host: url.hostname, port: url.port, path: url.pathname,
      method: 'POST', headers: { 'content-type': 'application/json' } });
    req.on('error', () => resolve());
    req.on('response', () => reject(new Error('an answer arrived before the client left')));
    req.end(payload);
    pollUntil(isReceived, { timeoutMs: 10000 }).then(() => req.destroy(), reject);
  });
}

describe('abandoned requests', () => {
  test('a stream abandoned mid-answer is billed for what was relayed', async (t) => {
    const g = await gateway(t);
    // Five tokens a second: the emulator's answer (20-60 words) is still going when the client
    // leaves after ten content chunks.
    await emulator.setProfile(g.emu.url, MODEL, { ttft_ms: 0, tokens_per_s: 5 });
    const controller = new AbortController();
    let words = 0;
    const res = await fetch(`${g.gw.url}/v1/chat/completions`, {
      method: 'POST', signal: controller.signal, headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'economy', stream: true, max_tokens: 200,
        messages: userMessage('Tell a long story.') }),
    });
    const id = res.headers.get('x-switchyard-request-id');
    const reader = res.body.getReader();
    const decoder = new TextDecoder();
    let text = '';
    while (words < 10) {
      const { value, done } = await reader.read();
      assert.ok(!done, 'the answer ended before the client left');
      text += decoder.decode(value);
      words = (text.match(/"content":"[^"]/g) ?? []).length;
    }
    controller.abort();
    const [row] = await ledgerRows(g.dbPath, [id], { timeoutMs: 10000 });
    assert.equal(row.error_code, 'client_closed');
    assert.equal(row.usage_estimated, 1);
    assert.ok(row.output_tokens >= 10, `output_tokens ${row.output_tokens}`);
    assert.ok(row.cost_pico > 0);
    const [attempt] = await sqlite(g.dbPath,
      `SELECT outcome, output_tokens, cost_pico FROM attempts WHERE request_id = '${id}'`);
    assert.equal(attempt.outcome, 'ok');
    assert.equal(attempt.cost_pico, row.cost_pico, 'the request costs the sum of its attempts');
  });

  // Regression: the estimate counted the client's body (~100 bytes here), not the conversation
  // that previous_response_id expands to and the upstream is sent (and bills): ~25 input tokens
  // were recorded for a prompt of ~50k.
  test('a continued conversation abandoned mid-stream is billed for the conversation sent',
    async (t) => {
      const g = await gateway(t);
      const first = await postJson(`${g.gw.url}/v1/responses`,
        { model: 'economy', input: 'word '.repeat(40000), max_output_tokens: 16 });
      assert.equal(first.status, 200, first.text);
      await emulator.setProfile(g.emu.url, MODEL, { ttft_ms: 0, tokens_per_s: 5 });
      const controller = new AbortController();
      const res = await fetch(`${g.gw.url}/v1/responses`, {
        method: 'POST', signal: controller.signal, headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ model: 'economy', previous_response_id: first.json.id,
          input: 'hi', stream: true }),
      });
      assert.equal(res.status, 200);
      const id = res.headers.get('x-switchyard-request-id');
      const reader = res.body.getReader();
      const decoder = new TextDecoder();
      let text = '';
      while (!text.includes('response.output_text.delta')) {
        const { value, done } = await reader.read();
        assert.ok(!done, 'the answer ended before the client left');
        text += decoder.decode(value);
      }
      controller.abort();
      const [row] = await ledgerRows(g.dbPath, [id], { timeoutMs: 10000 });
      assert.equal(row.error_code, 'client_closed');
      assert.equal(row.usage_estimated, 1);
      assert.ok(row.input_tokens >= 50000, `input_tokens ${row.input_tokens}`);
    });

  test('the upstream call of a JSON client that left is cancelled at once', async (t) => {
    const g = await gateway(t);
    // 30 tokens at 2 a second: 15 s if it ran to the end.
    await emulator.setProfile(g.emu.url, MODEL, { ttft_ms: 0, tokens_per_s: 2 });
    const t0 = performance.now();
    await abandonedJson(g.gw.url, { model: 'economy', max_tokens: 30, messages: userMessage() },
      async () => modelRequests(await emulator.requests(g.emu.url)).length === 1);
    await pollUntil(async () =>
      (await sqlite(g.dbPath, 'SELECT COUNT(*) AS n FROM requests'))[0].n === 1,
    { timeoutMs: 5000 });
    assert.ok(performance.now() - t0 < 5000, 'recorded long before the upstream would finish');
    const [row] = await sqlite(g.dbPath,
      'SELECT status, error_code, usage_estimated, input_tokens FROM requests');
    assert.deepEqual([row.status, row.error_code, row.usage_estimated], [499, 'client_closed', 1]);
    assert.ok(row.input_tokens > 0);
  });
});

describe('values outside the documented ranges', () => {
  test('max_tokens >= 2^31 and temperature > 2 are a 400 at the gateway', async (t) => {
    const g = await gateway(t);
    for (const extra of [{ max_tokens: 2 ** 31 }, { temperature: 2.5 }, { top_p: -0.5 }]) {
      const r = await chat(g.gw.url, { model: 'economy', messages: userMessage(), ...extra });
      assert.equal(r.status, 400, JSON.stringify(extra));
      assert.equal(r.json.error.param, Object.keys(extra)[0]);
    }
    const anthropic = await messages(g.gw.url, { model: 'economy', max_tokens: 2 ** 31,
      messages: userMessage() });
    assert.equal(anthropic.status, 400);
    assert.equal(modelRequests(await emulator.requests(g.emu.url)).length, 0);
  });
});
