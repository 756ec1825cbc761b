// `"model": "auto"` through the official openai and @anthropic-ai/sdk clients: the routing
// decision is visible on the raw response (x-switchyard-model, x-switchyard-route), JSON and
// stream alike; routing errors surface as the SDKs' own error classes.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';

import Anthropic from '@anthropic-ai/sdk';
import OpenAI from 'openai';

import { DECIMAL_RE, emulator, modelRequests, postJson, shareDemo,
  testCleanShutdown } from '../testutil/harness.mjs';

const INVOICE = `Extract the invoice number, date, vendor, line items and total from this invoice
as JSON.

Invoice no. INV-88213, issued 3 March 2026 by Brightwater Office Supply Ltd, 14 Quay Street,
Bristol BS1 4DJ, to Harbourside Dental Clinic.
  2 x ergonomic chair, model EC-400     @ GBP 189.00   = GBP 378.00
  5 x A4 paper, box of 2500 sheets      @ GBP  21.50   = GBP 107.50
  1 x delivery and assembly             @ GBP  45.00   = GBP  45.00
Subtotal GBP 530.50, VAT 20% GBP 106.10, total GBP 636.60, payable within 30 days.`;

const HISTORY = "When did the Thirty Years' War end, and which treaty ended it?";

const CASES = [
  { name: 'extraction', text: INVOICE, model: 'deepseek-v4-flash',
    route: 'profile=auto; rule=cheap-text; task=extraction' },
  { name: 'factual question', text: HISTORY, model: 'claude-opus-4.7',
    route: 'profile=auto; rule=facts; task=factual' },
];

const user = (text) => [{ role: 'user', content: text }];

// The worst case of each candidate for this body, from the explain endpoint.
async function worstCases(url, body) {
  const ex = await postJson(`${url}/v1/route/explain`, body);
  assert.equal(ex.status, 200, ex.text);
  return Object.fromEntries(ex.json.candidates.map((c) => [c.model, c.worst_case_cost_usd]));
}

describe('openai SDK -> gateway, model auto', () => {
  let demo;
  let client;
  shareDemo(async (d) => {
    demo = d;
    client = new OpenAI({ apiKey: 'sk-client-not-checked', baseURL: `${demo.url}/v1`, maxRetries: 0,
      timeout: 30000 });
  });

  for (const c of CASES) {
    test(`${c.name}: JSON -> ${c.model}, route on the raw response`, async () => {
      const { data, response } = await client.chat.completions
        .create({ model: 'auto', messages: user(c.text) })
        .withResponse();
      assert.equal(data.object, 'chat.completion');
      assert.ok(data.choices[0].message.content.length > 0);
      assert.equal(response.headers.get('x-switchyard-model'), c.model);
      assert.equal(response.headers.get('x-switchyard-route'), c.route);
      assert.match(response.headers.get('x-switchyard-cost-usd') ?? '', DECIMAL_RE);
    });

    test(`${c.name}: stream -> ${c.model}`, async () => {
      const { data: stream, response } = await client.chat.completions
        .create({ model: 'auto', messages: user(c.text), stream: true,
          stream_options: { include_usage: true } })
        .withResponse();
      assert.equal(response.headers.get('x-switchyard-model'), c.model);
      assert.equal(response.headers.get('x-switchyard-route'), c.route);
      let text = '';
      let last;
      for await (const chunk of stream) {
        text += chunk.choices[0]?.delta?.content ?? '';
        last = chunk;
      }
      assert.ok(text.length > 0);
      assert.match(last.usage?.cost_usd ?? '', DECIMAL_RE);
    });
  }

  test('asResponse(): the raw Response carries the route', async () => {
    const response = await client.chat.completions
      .create({ model: 'auto', messages: user(INVOICE) })
      .asResponse();
    assert.equal(response.status, 200);
    assert.equal(response.headers.get('x-switchyard-route'), CASES[0].route);
    const body = await response.json();
    assert.equal(body.object, 'chat.completion');
  });

  test('auto:nope -> NotFoundError listing the profiles', async () => {
    await assert.rejects(
      client.chat.completions.create({ model: 'auto:nope', messages: user(HISTORY) }),
      (err) => {
        assert.ok(err instanceof OpenAI.NotFoundError, `${err.constructor.name}: ${err.message}`);
        assert.equal(err.status, 404);
        assert.equal(err.param, 'model');
        assert.match(err.message, /auto, auto:accurate/);
        return true;
      });
  });

  test('a bad x-switchyard-max-cost-usd header option -> BadRequestError', async () => {
    await assert.rejects(
      client.chat.completions.create({ model: 'auto', messages: user(HISTORY) },
        { headers: { 'x-switchyard-max-cost-usd': 'ten dollars' } }),
      (err) => {
        assert.ok(err instanceof OpenAI.BadRequestError, `${err.constructor.name}: ${err.message}`);
        assert.equal(err.status, 400);
        assert.equal(err.param, 'x-switchyard-max-cost-usd');
        assert.match(err.message, /x-switchyard-max-cost-usd/);
        return true;
      });
    assert.deepEqual(modelRequests(await emulator.requests(demo.emulatorUrl)), []);
  });

  test('x-switchyard-max-cost-usd through the SDK leaves only the cheap models', async () => {
    // An extraction with a large max_tokens: a ceiling between mistral-small-4's worst case and
    // kimi-k2.6's keeps the two cheap models and drops kimi-k2.6 and gpt-5.5.
    const body = { model: 'auto', max_tokens: 4000, messages: user(INVOICE) };
    const worst = await worstCases(demo.url, body);
    const ceiling = '0.01';
    assert.ok(Number(worst['mistral-small-4']) < 0.01 && Number(worst['deepseek-v4-flash']) < 0.01,
      JSON.stringify(worst));
    assert.ok(Number(worst['gpt-5.5']) > 0.01, JSON.stringify(worst));
    await emulator.addFault(demo.emulatorUrl, { model: 'deepseek-v4-flash', status: 500, count: 1 });
    const { data, response } = await client.chat.completions
      .create(body, { headers: { 'x-switchyard-max-cost-usd': ceiling } })
      .withResponse();
    assert.ok(data.choices[0].message.content.length > 0);
    assert.equal(response.headers.get('x-switchyard-model'), 'mistral-small-4');
    const called = modelRequests(await emulator.requests(demo.emulatorUrl)).map((r) => r.body?.model);
    assert.deepEqual(called, ['deepseek-v4-flash', 'mistral-small-4']);

    // Both cheap models failing: the dear ones are never tried.
    await emulator.reset(demo.emulatorUrl);
    for (const model of ['deepseek-v4-flash', 'mistral-small-4']) {
      await emulator.addFault(demo.emulatorUrl, { model, status: 500, count: 1 });
    }
    await assert.rejects(
      client.chat.completions.create(body, { headers: { 'x-switchyard-max-cost-usd': ceiling } }),
      (err) => {
        assert.ok(err instanceof OpenAI.InternalServerError, `${err.constructor.name}: ${err.message}`);
        return true;
      });
    const tried = modelRequests(await emulator.requests(demo.emulatorUrl)).map((r) => r.body?.model);
    assert.ok(!tried.includes('gpt-5.5') && !tried.includes('kimi-k2.6'), JSON.stringify(tried));
  });

  testCleanShutdown(() => demo);
});

describe('anthropic SDK -> gateway, model auto', () => {
  let demo;
  let client;
  shareDemo(async (d) => {
    demo = d;
    client = new Anthropic({ apiKey: 'sk-ant-client', baseURL: demo.url, maxRetries: 0,
      timeout: 30000 });
  });

  for (const c of CASES) {
    test(`${c.name}: JSON -> ${c.model}, route on the raw response`, async () => {
      const { data, response } = await client.messages
        .create({ model: 'auto', max_tokens: 512, messages: user(c.text) })
        .withResponse();
      assert.equal(data.type, 'message');
      assert.equal(data.content[0].type, 'text');
      assert.ok(data.content[0].text.length > 0);
      assert.equal(response.headers.get('x-switchyard-model'), c.model);
      assert.equal(response.headers.get('x-switchyard-route'), c.route);
      assert.match(response.headers.get('x-switchyard-cost-usd') ?? '', DECIMAL_RE);
    });

    test(`${c.name}: stream -> ${c.model}`, async () => {
      const { data: stream, response } = await client.messages
        .create({ model: 'auto', max_tokens: 512, messages: user(c.text), stream: true })
        .withResponse();
      assert.equal(response.headers.get('x-switchyard-model'), c.model);
      assert.equal(response.headers.get('x-switchyard-route'), c.route);
      const types = new Set();
      let text = '';
      for await (const event of stream) {
        types.add(event.type);
        if (event.type === 'content_block_delta' && event.delta.type === 'text_delta') {
          text += event.delta.text;
        }
      }
      assert.ok(text.length > 0);
      assert.ok(types.has('message_start') && types.has('message_stop'), [...types].join(','));
    });
  }

  test('asResponse(): the raw Response carries the route', async () => {
    const response = await client.messages
      .create({ model: 'auto', max_tokens: 256, messages: user(HISTORY) })
      .asResponse();
    assert.equal(response.status, 200);
    assert.equal(response.headers.get('x-switchyard-route'), CASES[1].route);
    assert.equal(response.headers.get('x-switchyard-provider'), 'anthropic');
    const body = await response.json();
    assert.equal(body.type, 'message');
  });

  test('auto:nope -> NotFoundError listing the profiles', async () => {
    await assert.rejects(
      client.messages.create({ model: 'auto:nope', max_tokens: 64, messages: user(HISTORY) }),
      (err) => {
        assert.ok(err instanceof Anthropic.NotFoundError, `${err.constructor.name}: ${err.message}`);
        assert.equal(err.status, 404);
        assert.match(err.message, /auto, auto:accurate/);
        return true;
      });
  });

  test('a bad x-switchyard-max-cost-usd header option -> BadRequestError', async () => {
    await assert.rejects(
      client.messages.create({ model: 'auto', max_tokens: 64, messages: user(HISTORY) },
        { headers: { 'x-switchyard-max-cost-usd': '-0.5' } }),
      (err) => {
        assert.ok(err instanceof Anthropic.BadRequestError, `${err.constructor.name}: ${err.message}`);
        assert.equal(err.status, 400);
        assert.match(err.message, /x-switchyard-max-cost-usd/);
        return true;
      });
  });

  test('x-switchyard-max-cost-usd through the SDK leaves only the cheap models', async () => {
    const body = { model: 'auto', max_tokens: 4000, messages: user(INVOICE) };
    const worst = await worstCases(demo.url, body);
    assert.ok(Number(worst['mistral-small-4']) < 0.01 && Number(worst['gpt-5.5']) > 0.01,
      JSON.stringify(worst));
    await emulator.addFault(demo.emulatorUrl, { model: 'deepseek-v4-flash', status: 500, count: 1 });
    const { data, response } = await client.messages
      .create(body, { headers: { 'x-switchyard-max-cost-usd': '0.01' } })
      .withResponse();
    assert.ok(data.content[0].text.length > 0);
    assert.equal(response.headers.get('x-switchyard-model'), 'mistral-small-4');
    assert.equal(response.headers.get('x-switchyard-route'), CASES[0].route);
    for (const model of ['deepseek-v4-flash', 'mistral-small-4']) {
      await emulator.addFault(demo.emulatorUrl, { model, status: 500, count: 1 });
    }
    await emulator.clearRequests(demo.emulatorUrl);
    await assert.rejects(
      client.messages.create(body, { headers: { 'x-switchyard-max-cost-usd': '0.01' } }),
      (err) => {
        assert.ok(err instanceof Anthropic.InternalServerError, `${err.constructor.name}: ${err.message}`);
        return true;
      });
    const tried = modelRequests(await emulator.requests(demo.emulatorUrl)).map((r) => r.body?.model);
    assert.deepEqual(tried, ['deepseek-v4-flash', 'mistral-small-4']);
  });

  // A ceiling below both frontier models on a factual question is a 400: the facts rule never
  // falls back to the DeepSeek models (see tests/integration/routing.test.mjs).
  test('a factual question under a ceiling below both frontier models -> BadRequestError',
    async () => {
      const body = { model: 'auto', max_tokens: 512, messages: user(HISTORY) };
      const worst = await worstCases(demo.url, body);
      assert.ok(Number(worst['claude-opus-4.7']) > 0.0005, JSON.stringify(worst));
      await assert.rejects(
        client.messages.create(body, { headers: { 'x-switchyard-max-cost-usd': '0.0005' } }),
        (err) => {
          assert.ok(err instanceof Anthropic.BadRequestError, `${err.constructor.name}: ${err.message}`);
          assert.match(err.message,
            /no model satisfies x-switchyard-max-cost-usd=0\.0005: cheapest candidate claude-opus-4\.7 estimated/);
          return true;
        });
      assert.deepEqual(modelRequests(await emulator.requests(demo.emulatorUrl)), []);
    });

  testCleanShutdown(() => demo);
});
