// Streams are relayed chunk by chunk; usage reaches the client only when it asked for it, and the
// gateway always asks the upstream for it.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';

import {
  DECIMAL_RE, emulator, ledgerRows, modelRequests, streamChat, streamedText, usdToPico,
  userMessage, shareDemo,
} from '../testutil/harness.mjs';

const TOKENS_PER_S = 20;

function contentEvents(events) {
  return events.filter((e) => (e.json?.choices?.[0]?.delta?.content ?? '') !== '');
}

describe('streaming', () => {
  let demo;
  shareDemo(async (d) => {
    demo = d;
    await emulator.setProfile(demo.emulatorUrl, 'deepseek-v4-flash',
      { ttft_ms: 50, tokens_per_s: TOKENS_PER_S });
  });

  test('relayed as it arrives, no usage chunk without include_usage, ends with [DONE]', async () => {
    const res = await streamChat(demo.url, {
      model: 'economy', stream: true, max_tokens: 40,
      messages: userMessage('Count slowly to forty.'),
    });
    assert.equal(res.status, 200, res.raw);
    assert.match(res.headers['content-type'] ?? '', /text\/event-stream/);
    assert.equal(res.headers['x-switchyard-model'], 'deepseek-v4-flash');
    assert.equal(res.headers['x-switchyard-attempts'], '1');
    assert.ok(res.headers['x-switchyard-request-id']);
    assert.equal(res.headers['x-switchyard-cost-usd'], undefined,
      'no cost header on a stream (it is not known yet)');

    assert.ok(res.events.length > 0);
    assert.equal(res.events.at(-1).data, '[DONE]', 'last event is data: [DONE]');
    const chunks = res.events.slice(0, -1);
    for (const e of chunks) {
      assert.ok(e.json, `every event but [DONE] is JSON: ${e.data}`);
      assert.equal(e.json.object, 'chat.completion.chunk');
      assert.ok(e.json.usage === undefined || e.json.usage === null,
        `no usage reaches a client that did not ask for it: ${e.data}`);
    }
    const content = contentEvents(chunks);
    assert.ok(content.length >= 5, `at least 5 content chunks, got ${content.length}`);
    assert.ok(streamedText(chunks).length > 0);

    // Not buffered: content arrives spread over time, as the upstream produces it.
    const first = content[0].t;
    const done = res.events.at(-1).t;
    const expectedSpreadMs = ((content.length - 1) / TOKENS_PER_S) * 1000;
    assert.ok(done - first >= expectedSpreadMs * 0.5,
      `first content chunk at +${(first - res.startedAt).toFixed(0)} ms, [DONE] at ` +
      `+${(done - res.startedAt).toFixed(0)} ms: expected them at least ${(expectedSpreadMs * 0.5).toFixed(0)} ms apart`);
    const arrivals = new Set(content.map((e) => Math.round(e.t)));
    assert.ok(arrivals.size >= 3, `content arrived in ${arrivals.size} distinct reads`);

    // The cost travels in the trailer.
    const trailer = res.trailers['x-switchyard-cost-usd'];
    assert.match(trailer ?? '', DECIMAL_RE, `x-switchyard-cost-usd trailer: ${trailer}`);

    // The gateway asked the upstream for usage anyway.
    const [up] = modelRequests(await emulator.requests(demo.emulatorUrl));
    assert.equal(up.body.stream, true);
    assert.equal(up.body.stream_options?.include_usage, true,
      `upstream request: ${JSON.stringify(up.body)}`);

    const [row] = await ledgerRows(demo.dbPath, [res.headers['x-switchyard-request-id']]);
    assert.equal(row.stream, 1);
    assert.equal(row.status, 200);
    assert.equal(row.cost_usd, trailer);
    assert.ok(row.output_tokens > 0, 'usage recorded from the stripped usage chunk');
    assert.ok(row.ttft_ms !== null && row.ttft_ms >= 0, `ttft_ms recorded: ${row.ttft_ms}`);
  });

  test('include_usage: the final usage chunk carries cost_usd, equal to the trailer', async () => {
    const res = await streamChat(demo.url, {
      model: 'economy', stream: true, max_tokens: 8, stream_options: { include_usage: true },
      messages: userMessage(),
    });
    assert.equal(res.status, 200, res.raw);
    assert.equal(res.events.at(-1).data, '[DONE]');
    const usageChunks = res.events.filter((e) => e.json?.usage);
    assert.equal(usageChunks.length, 1, 'exactly one usage chunk');
    const usageChunk = usageChunks[0];
    assert.equal(usageChunk, res.events.at(-2), 'the usage chunk is the last before [DONE]');
    assert.deepEqual(usageChunk.json.choices, [], 'usage chunk has empty choices (OpenAI format)');
    const { usage } = usageChunk.json;
    assert.ok(usage.prompt_tokens > 0 && usage.completion_tokens > 0);
    assert.equal(typeof usage.cost_usd, 'string', 'cost_usd is a string, never a float');
    assert.match(usage.cost_usd, DECIMAL_RE);
    assert.equal(res.trailers['x-switchyard-cost-usd'], usage.cost_usd);

    const [up] = modelRequests(await emulator.requests(demo.emulatorUrl));
    assert.equal(up.body.stream_options?.include_usage, true);

    const [row] = await ledgerRows(demo.dbPath, [res.headers['x-switchyard-request-id']]);
    assert.equal(BigInt(row.cost_pico), usdToPico(usage.cost_usd));
    assert.equal(row.input_tokens, usage.prompt_tokens);
    assert.equal(row.output_tokens, usage.completion_tokens);
  });
});
