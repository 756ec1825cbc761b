// The demo answers a plain chat completion through the `economy` alias with every x-switchyard
// header, lists its models and aliases with prices, and answers its health checks.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';

import {
  DECIMAL_RE, chat, emulator, getJson, ledgerRows, usdToPico,
  userMessage, shareDemo, testCleanShutdown,
} from '../testutil/harness.mjs';

// deepseek-v4-flash in config/demo.yaml, micro-USD per 1M tokens (= pico-USD per token).
const FLASH = {
  standard: { input: 140000n, cached: 14000n, output: 280000n },
  offPeak: { input: 70000n, cached: 7000n, output: 140000n },  // 16:30-00:30 UTC
};

function inOffPeak(date) {
  const minute = date.getUTCHours() * 60 + date.getUTCMinutes();
  return minute >= 16 * 60 + 30 || minute < 30;
}

describe('demo basics', () => {
  let demo;
  shareDemo(async (d) => {
    demo = d;
  });

  test('non-stream chat via economy: 200, OpenAI body, all x-switchyard headers, exact cost', async () => {
    const before = new Date();
    const res = await chat(demo.url, { model: 'economy', messages: userMessage() },
      { headers: { 'x-switchyard-task-id': 'basics-1' } });
    const after_ = new Date();
    assert.equal(res.status, 200, res.text);
    assert.match(res.headers.get('content-type') ?? '', /application\/json/);

    const body = res.json;
    assert.equal(body.object, 'chat.completion');
    assert.equal(typeof body.id, 'string');
    assert.equal(body.choices[0].message.role, 'assistant');
    assert.equal(typeof body.choices[0].message.content, 'string');
    assert.ok(body.choices[0].message.content.length > 0, 'non-empty content');
    assert.ok(Number.isInteger(body.usage.prompt_tokens) && body.usage.prompt_tokens > 0);
    assert.ok(Number.isInteger(body.usage.completion_tokens) && body.usage.completion_tokens > 0);

    const h = (n) => res.headers.get(n);
    assert.match(h('x-switchyard-request-id') ?? '', /^\S{8,}$/, 'request id');
    assert.equal(h('x-switchyard-model'), 'deepseek-v4-flash');
    assert.equal(h('x-switchyard-provider'), 'deepseek');
    assert.equal(h('x-switchyard-attempts'), '1');
    assert.match(h('x-switchyard-route') ?? '', /^profile=none; rule=alias economy; task=[a-z_]+$/);
    const cost = h('x-switchyard-cost-usd');
    assert.match(cost ?? '', DECIMAL_RE, `cost header is an exact decimal: ${cost}`);

    // The cost is the provider's usage block times the price list, exactly.
    const cached = BigInt(body.usage.prompt_tokens_details?.cached_tokens ?? 0);
    const expected = (p) => (BigInt(body.usage.prompt_tokens) - cached) * p.input +
      cached * p.cached + BigInt(body.usage.completion_tokens) * p.output;
    const allowed = new Set([inOffPeak(before), inOffPeak(after_)].map(
      (off) => expected(off ? FLASH.offPeak : FLASH.standard)));
    assert.ok(allowed.has(usdToPico(cost)),
      `cost ${cost} = ${usdToPico(cost)} pico, expected one of ${[...allowed]} for usage ${JSON.stringify(body.usage)}`);

    // The emulator saw the upstream model name.
    const seen = (await emulator.requests(demo.emulatorUrl)).filter((r) => /chat\/completions$/.test(r.path ?? ''));
    assert.equal(seen.length, 1);
    assert.equal(seen[0].body.model, 'deepseek-v4-flash');

    // And the ledger has the same story.
    const [row] = await ledgerRows(demo.dbPath, [h('x-switchyard-request-id')]);
    assert.equal(row.requested_model, 'economy');
    assert.equal(row.chosen_model, 'deepseek-v4-flash');
    assert.equal(row.provider, 'deepseek');
    assert.equal(row.task_id, 'basics-1');
    assert.equal(row.status, 200);
    assert.equal(row.error_code, '');
    assert.equal(row.cost_usd, cost);
    assert.equal(BigInt(row.cost_pico), usdToPico(cost));
    assert.equal(row.attempts_count, 1);
    assert.equal(row.input_tokens, body.usage.prompt_tokens);
    assert.equal(row.output_tokens, body.usage.completion_tokens);
    assert.match(row.route_reason, /economy/);
  });

  test('GET /v1/models lists models with switchyard.price and the aliases', async () => {
    const res = await getJson(`${demo.url}/v1/models`);
    assert.equal(res.status, 200);
    assert.equal(res.json.object, 'list');
    const byId = new Map(res.json.data.map((m) => [m.id, m]));
    for (const id of ['gpt-5.5', 'gpt-5.5-pro', 'claude-opus-4.7', 'gemini-3.1-pro',
      'deepseek-v4-pro', 'deepseek-v4-flash', 'kimi-k2.6', 'llama-4-maverick']) {
      const m = byId.get(id);
      assert.ok(m, `model ${id} listed`);
      assert.equal(m.object, 'model');
      assert.ok(m.switchyard?.price, `${id} has switchyard.price`);
      assert.match(m.switchyard.price.input, DECIMAL_RE);
      assert.match(m.switchyard.price.output, DECIMAL_RE);
    }
    const gpt = byId.get('gpt-5.5').switchyard.price;
    assert.equal(gpt.input, '5');
    assert.equal(gpt.output, '30');
    assert.equal(gpt.example, false);
    const kimi = byId.get('kimi-k2.6').switchyard.price;
    assert.equal(kimi.example, true, 'kimi-k2.6 price is flagged as an example');
    assert.equal(typeof kimi.note, 'string');
    assert.ok(kimi.note.length > 0);
    const flash = byId.get('deepseek-v4-flash').switchyard.price;
    assert.equal(flash.windows?.[0]?.name, 'off-peak');

    const economy = byId.get('economy');
    assert.ok(economy, 'alias economy listed');
    assert.deepEqual(economy.switchyard.alias_for, ['deepseek-v4-flash', 'kimi-k2.6', 'gpt-5.5']);
    assert.ok(byId.get('frontier'), 'alias frontier listed');
  });

  test('every demo model has an adapter and answers; an alias is served by its first model', async () => {
    const models = await getJson(`${demo.url}/v1/models`);
    for (const m of models.json.data.filter((e) => e.switchyard.provider)) {
      assert.equal(m.switchyard.available, true, m.id);
    }
    const claude = await chat(demo.url, { model: 'claude-opus-4.7', messages: userMessage() });
    assert.equal(claude.status, 200, claude.text);
    assert.equal(claude.json.object, 'chat.completion');
    assert.equal(claude.headers.get('x-switchyard-provider'), 'anthropic');
    const frontier = await chat(demo.url, { model: 'frontier', messages: userMessage() });
    assert.equal(frontier.status, 200, frontier.text);
    assert.equal(frontier.headers.get('x-switchyard-model'), 'claude-opus-4.7');
  });

  test('/healthz and /readyz answer 200', async () => {
    const health = await getJson(`${demo.url}/healthz`);
    assert.equal(health.status, 200);
    assert.equal(health.json.status, 'ok');
    const ready = await getJson(`${demo.url}/readyz`);
    assert.equal(ready.status, 200);
    assert.equal(ready.json.status, 'ready');
  });

  testCleanShutdown(() => demo);
});
