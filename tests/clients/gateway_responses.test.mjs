// The official openai SDK against the gateway's /v1/responses (OpenAI's Responses API), once for
// each kind of upstream: a Chat Completions model (translated through the hub), an Anthropic
// Messages model (two hops: Responses -> Chat -> Messages) and a Responses-native model (passed
// through). The same assertions hold for all three: the SDK must not be able to tell. What the
// upstream received is checked through the emulator's request log.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';

import OpenAI from 'openai';

import { DECIMAL_RE, emulator, modelRequests, shareDemo,
  testCleanShutdown } from '../testutil/harness.mjs';

import { RESPONSES_WEATHER_TOOL } from './weather_tool.mjs';

// upstream: the wire the model's provider speaks, as the emulator logged the path.
const TARGETS = [
  { name: 'Chat Completions model', model: 'gpt-5.5', provider: 'openai', upstream: 'chat',
    upstreamPath: /\/v1\/chat\/completions$/ },
  { name: 'Anthropic model', model: 'claude-haiku-4.5', provider: 'anthropic', upstream: 'anthropic',
    upstreamPath: /\/v1\/messages$/ },
  { name: 'Responses-native model', model: 'gpt-5.5-pro', provider: 'openai-responses',
    upstream: 'responses', upstreamPath: /\/v1\/responses$/ },
];

const SCHEMA = {
  type: 'object',
  properties: {
    city: { type: 'string' },
    population: { type: 'integer' },
    coastal: { type: 'boolean' },
    districts: { type: 'array', items: { type: 'string' } },
  },
  required: ['city', 'population', 'coastal', 'districts'],
  additionalProperties: false,
};

const INVOICE = `Extract the invoice number, date, vendor, line items and total from this invoice
as JSON.

Invoice no. INV-88213, issued 3 March 2026 by Brightwater Office Supply Ltd, 14 Quay Street,
Bristol BS1 4DJ, to Harbourside Dental Clinic.
  2 x ergonomic chair, model EC-400     @ GBP 189.00   = GBP 378.00
  5 x A4 paper, box of 2500 sheets      @ GBP  21.50   = GBP 107.50
  1 x delivery and assembly             @ GBP  45.00   = GBP  45.00
Subtotal GBP 530.50, VAT 20% GBP 106.10, total GBP 636.60, payable within 30 days.`;

// The text of a message's content in any of the three wires: a string, or parts/blocks with text.
function textOf(content) {
  if (typeof content === 'string') return content;
  if (!Array.isArray(content)) return '';
  return content.map((p) => (typeof p.text === 'string' ? p.text : '')).join('');
}

// The conversation an upstream request carries, as [{role, text}] (system/developer turns and
// tool traffic left out), whichever wire it was sent in.
function conversationOf(body, upstream) {
  if (upstream === 'responses') {
    if (typeof body.input === 'string') return [{ role: 'user', text: body.input }];
    return body.input
      .filter((item) => (item.type === undefined || item.type === 'message') &&
        (item.role === 'user' || item.role === 'assistant'))
      .map((item) => ({ role: item.role, text: textOf(item.content) }));
  }
  return body.messages
    .filter((m) => m.role === 'user' || m.role === 'assistant')
    .map((m) => ({ role: m.role, text: textOf(m.content) }));
}

const assertUsage = (usage) => {
  assert.ok(usage, 'usage present');
  assert.ok(usage.input_tokens > 0, JSON.stringify(usage));
  assert.ok(usage.output_tokens > 0, JSON.stringify(usage));
  assert.equal(usage.total_tokens, usage.input_tokens + usage.output_tokens, JSON.stringify(usage));
  assert.equal(typeof usage.input_tokens_details?.cached_tokens, 'number', JSON.stringify(usage));
  assert.equal(typeof usage.output_tokens_details?.reasoning_tokens, 'number', JSON.stringify(usage));
};

const expectError = (Class, check = () => {}) => (err) => {
  assert.ok(err instanceof Class, `${err.constructor.name}: ${err.message}`);
  check(err);
  return true;
};

describe('openai SDK -> gateway /v1/responses', () => {
  let demo;
  let client;
  shareDemo(async (d) => {
    demo = d;
    client = new OpenAI({ apiKey: 'sk-client', baseURL: `${demo.url}/v1`, maxRetries: 0,
      timeout: 30000 });
  });

  const upstreamCalls = async (target) =>
    modelRequests(await emulator.requests(demo.emulatorUrl))
      .filter((r) => target.upstreamPath.test(r.path));

  for (const target of TARGETS) {
    const { model } = target;

    test(`${model}: responses.create -> a Response with output_text, usage and headers`, async () => {
      const { data, response } = await client.responses
        .create({ model, input: 'Say hello', instructions: 'You are terse.', max_output_tokens: 300,
          metadata: { run: 'sdk-tests' } })
        .withResponse();
      assert.equal(data.object, 'response');
      assert.match(data.id, /^resp_/);
      assert.equal(data.status, 'completed');
      assert.ok(data.output_text.length > 0, JSON.stringify(data.output));
      const message = data.output.find((item) => item.type === 'message');
      assert.equal(message.role, 'assistant');
      assert.equal(message.content[0].type, 'output_text');
      assert.equal(data.instructions, 'You are terse.');
      assert.equal(data.max_output_tokens, 300);
      assert.deepEqual(data.metadata, { run: 'sdk-tests' });
      assertUsage(data.usage);
      assert.equal(response.headers.get('x-switchyard-model'), model);
      assert.equal(response.headers.get('x-switchyard-provider'), target.provider);
      assert.match(response.headers.get('x-switchyard-cost-usd') ?? '', DECIMAL_RE);
      assert.ok(response.headers.get('x-switchyard-request-id'));

      const [sent] = await upstreamCalls(target);
      assert.ok(sent, 'the upstream was called in its own wire');
      const text = JSON.stringify(sent.body);
      assert.ok(text.includes('You are terse.'), `instructions reach the upstream: ${text}`);
      if (target.upstream === 'chat') {
        assert.equal(sent.body.messages[0].role, 'system');
        assert.equal(sent.body.max_completion_tokens, 300);
      } else if (target.upstream === 'anthropic') {
        assert.equal(sent.body.max_tokens, 300);
        assert.ok(sent.body.messages.every((m) => m.role !== 'system'));
      } else {
        assert.equal(sent.body.max_output_tokens, 300);
        assert.equal(sent.body.store, false, 'the gateway stores; the upstream does not');
      }
    });

    test(`${model}: responses.stream -> finalResponse() equals the deltas; sequence 0..n-1`,
      async () => {
        const stream = client.responses.stream({ model, input: 'Tell me about trains' });
        let deltas = '';
        const events = [];
        stream.on('response.output_text.delta', (e) => {
          deltas += e.delta;
        });
        stream.on('event', (e) => events.push(e));
        const final = await stream.finalResponse();
        assert.ok(deltas.length > 0);
        assert.equal(final.output_text, deltas);
        assert.equal(final.status, 'completed');
        assert.deepEqual(events.map((e) => e.sequence_number), events.map((_, i) => i),
          events.map((e) => `${e.sequence_number}:${e.type}`).join(' '));
        assert.equal(events[0].type, 'response.created');
        const completed = events.at(-1);
        assert.equal(completed.type, 'response.completed');
        assert.equal(completed.response.id, events[0].response.id);
        assert.equal(final.id, events[0].response.id);
        assertUsage(completed.response.usage);
        assert.match(completed.response.usage.cost_usd ?? '', DECIMAL_RE,
          JSON.stringify(completed.response.usage));
      });

    test(`${model}: stream: true with the raw response -> routing headers, typed events`,
      async () => {
        const { data: stream, response } = await client.responses
          .create({ model, input: 'Tell me about boats', stream: true })
          .withResponse();
        assert.equal(response.headers.get('x-switchyard-model'), model);
        assert.match(response.headers.get('content-type') ?? '', /text\/event-stream/);
        let text = '';
        let last;
        for await (const event of stream) {
          if (event.type === 'response.output_text.delta') text += event.delta;
          last = event;
        }
        assert.ok(text.length > 0);
        assert.equal(last.type, 'response.completed');
        const final = last.response.output.find((item) => item.type === 'message');
        assert.equal(textOf(final.content), text);
      });

    test(`${model}: function tool round trip (function_call -> function_call_output -> text)`,
      async () => {
        const input = [{ role: 'user', content: 'What is the weather in Lisbon?' }];
        const first = await client.responses.create({
          model, input, tools: [RESPONSES_WEATHER_TOOL], tool_choice: 'required',
        });
        const call = first.output.find((item) => item.type === 'function_call');
        assert.ok(call, JSON.stringify(first.output));
        assert.equal(call.name, 'get_weather');
        assert.ok(call.call_id, JSON.stringify(call));
        assert.equal(typeof JSON.parse(call.arguments).city, 'string');

        input.push(...first.output);
        input.push({ type: 'function_call_output', call_id: call.call_id, output: '{"temp_c": 21}' });
        const second = await client.responses.create({ model, input, tools: [RESPONSES_WEATHER_TOOL] });
        assert.equal(second.status, 'completed');
        assert.match(second.output_text, /tool returned/i);

        const last = (await upstreamCalls(target)).at(-1).body;
        if (target.upstream === 'chat') {
          const tool = last.messages.at(-1);
          assert.equal(tool.role, 'tool');
          assert.equal(tool.tool_call_id, call.call_id);
          assert.match(textOf(tool.content), /temp_c/);
          const asked = last.messages.at(-2);
          assert.equal(asked.role, 'assistant');
          assert.equal(asked.tool_calls[0].id, call.call_id);
          assert.equal(asked.tool_calls[0].function.name, 'get_weather');
        } else if (target.upstream === 'anthropic') {
          const result = last.messages.at(-1).content.find((b) => b.type === 'tool_result');
          assert.ok(result, JSON.stringify(last.messages.at(-1)));
          assert.equal(result.tool_use_id, call.call_id);
          const use = last.messages.at(-2).content.find((b) => b.type === 'tool_use');
          assert.equal(use.id, call.call_id);
          assert.equal(use.name, 'get_weather');
        } else {
          const output = last.input.find((item) => item.type === 'function_call_output');
          assert.equal(output.call_id, call.call_id);
          const asked = last.input.find((item) => item.type === 'function_call');
          assert.equal(asked.call_id, call.call_id);
        }
      });

    test(`${model}: responses.parse with a json_schema text format -> output_parsed`, async () => {
      const parsed = await client.responses.parse({
        model, input: 'Describe Lisbon as JSON.',
        text: { format: { type: 'json_schema', name: 'city_facts', schema: SCHEMA, strict: true } },
      });
      const out = parsed.output_parsed;
      assert.ok(out && typeof out === 'object', parsed.output_text);
      assert.deepEqual(Object.keys(out).sort(), ['city', 'coastal', 'districts', 'population']);
      assert.equal(typeof out.city, 'string');
      assert.ok(Number.isInteger(out.population));
      assert.equal(typeof out.coastal, 'boolean');
      assert.ok(Array.isArray(out.districts) && out.districts.every((d) => typeof d === 'string'));

      const [sent] = await upstreamCalls(target);
      if (target.upstream === 'chat') {
        assert.equal(sent.body.response_format.type, 'json_schema');
        assert.deepEqual(sent.body.response_format.json_schema.schema, SCHEMA);
      } else if (target.upstream === 'anthropic') {
        // claude-haiku-4.5 lists json_schema: the native output_config.format.
        assert.equal(sent.body.output_config?.format?.type, 'json_schema', JSON.stringify(sent.body));
        assert.deepEqual(Object.keys(sent.body.output_config.format.schema.properties).sort(),
          Object.keys(SCHEMA.properties).sort());
      } else {
        assert.equal(sent.body.text.format.type, 'json_schema');
        assert.deepEqual(sent.body.text.format.schema, SCHEMA);
      }
    });

    test(`${model}: previous_response_id over three turns sends the whole conversation`,
      async () => {
        const inputs = ['My name is Ada.', 'I live in Lisbon.', 'What do you know about me?'];
        const turns = [];
        for (const input of inputs) {
          turns.push(await client.responses.create({
            model, input, previous_response_id: turns.at(-1)?.id,
          }));
        }
        assert.equal(turns[1].previous_response_id, turns[0].id);
        assert.equal(turns[2].previous_response_id, turns[1].id);
        const calls = await upstreamCalls(target);
        assert.equal(calls.length, 3);
        const third = calls[2].body;
        assert.deepEqual(conversationOf(third, target.upstream), [
          { role: 'user', text: inputs[0] },
          { role: 'assistant', text: turns[0].output_text },
          { role: 'user', text: inputs[1] },
          { role: 'assistant', text: turns[1].output_text },
          { role: 'user', text: inputs[2] },
        ]);
        if (target.upstream === 'responses') {
          assert.equal(third.previous_response_id, undefined, 'expanded by the gateway');
          assert.equal(third.store, false);
        }
      });

    test(`${model}: responses.retrieve and responses.delete`, async () => {
      const created = await client.responses.create({ model, input: 'Remember this' });
      const got = await client.responses.retrieve(created.id);
      assert.equal(got.id, created.id);
      assert.equal(got.object, 'response');
      assert.equal(got.output_text, created.output_text);
      assert.deepEqual(got.usage, created.usage);

      const raw = await client.responses.delete(created.id).asResponse();
      assert.equal(raw.status, 200);
      assert.deepEqual(await raw.json(), { id: created.id, object: 'response', deleted: true });
      await assert.rejects(client.responses.retrieve(created.id),
        expectError(OpenAI.NotFoundError, (err) => assert.equal(err.status, 404)));
      await assert.rejects(client.responses.delete(created.id), expectError(OpenAI.NotFoundError));
    });
  }

  test('unknown model -> NotFoundError naming model', async () => {
    await assert.rejects(client.responses.create({ model: 'gpt-9-ultra', input: 'x' }),
      expectError(OpenAI.NotFoundError, (err) => {
        assert.equal(err.status, 404);
        assert.equal(err.param, 'model');
        assert.match(err.message, /gpt-9-ultra/);
      }));
  });

  test('input of the wrong type -> BadRequestError with param input', async () => {
    await assert.rejects(client.responses.create({ model: 'gpt-5.5', input: 42 }),
      expectError(OpenAI.BadRequestError, (err) => {
        assert.equal(err.status, 400);
        assert.equal(err.param, 'input');
      }));
    assert.deepEqual(modelRequests(await emulator.requests(demo.emulatorUrl)), []);
  });

  test('retrieve of an unknown id -> NotFoundError', async () => {
    await assert.rejects(client.responses.retrieve('resp_0000000000000000000000000000'),
      expectError(OpenAI.NotFoundError));
  });

  test('a built-in tool (web_search) towards a Chat model -> BadRequestError naming tools[0]',
    async () => {
      await assert.rejects(
        client.responses.create({ model: 'gpt-5.5', input: 'News today?', tools: [{ type: 'web_search' }] }),
        expectError(OpenAI.BadRequestError, (err) => {
          assert.equal(err.param, 'tools[0]');
          assert.match(err.message, /web_search/);
        }));
      assert.deepEqual(modelRequests(await emulator.requests(demo.emulatorUrl)), []);
    });

  test('model auto -> routed; x-switchyard-route names profile auto', async () => {
    const { data, response } = await client.responses
      .create({ model: 'auto', input: INVOICE })
      .withResponse();
    assert.equal(data.object, 'response');
    assert.ok(data.output_text.length > 0);
    assert.match(response.headers.get('x-switchyard-route') ?? '', /^profile=auto; rule=cheap-text; task=extraction$/);
    assert.equal(response.headers.get('x-switchyard-model'), 'deepseek-v4-flash');
    assert.match(response.headers.get('x-switchyard-cost-usd') ?? '', DECIMAL_RE);
  });

  testCleanShutdown(() => demo);
});
