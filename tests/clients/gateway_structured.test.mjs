// Structured output through each client dialect to each upstream kind, with the official SDKs'
// own parse helpers: openai chat.completions.parse (response_format json_schema) and
// responses.parse (text.format json_schema), @anthropic-ai/sdk messages.parse (output_config.format
// from helpers/json-schema), each against a Chat Completions model (gpt-5.5), an Anthropic model
// (claude-haiku-4.5) and a Responses-native model (gpt-5.5-pro). Also: json_object to Claude,
// messages.countTokens for both kinds, message_start's input estimate, and a model's dated id.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';

import Anthropic from '@anthropic-ai/sdk';
import { jsonSchemaOutputFormat } from '@anthropic-ai/sdk/helpers/json-schema';
import OpenAI from 'openai';

import { DECIMAL_RE, emulator, getJson, modelRequests, shareDemo,
  testCleanShutdown } from '../testutil/harness.mjs';

const CLAUDE = 'claude-haiku-4.5';
const CLAUDE_DATED = 'claude-haiku-4-5-20251001';

const TARGETS = [
  { model: 'gpt-5.5', upstream: 'chat', upstreamPath: /\/v1\/chat\/completions$/ },
  { model: CLAUDE, upstream: 'anthropic', upstreamPath: /\/v1\/messages$/ },
  { model: 'gpt-5.5-pro', upstream: 'responses', upstreamPath: /\/v1\/responses$/ },
];

const SCHEMA = {
  type: 'object',
  properties: {
    title: { type: 'string' },
    year: { type: 'integer' },
    rating: { type: 'number' },
    available: { type: 'boolean' },
    genres: { type: 'array', items: { type: 'string' } },
  },
  required: ['title', 'year', 'rating', 'available', 'genres'],
  additionalProperties: false,
};

// The parsed value has exactly the schema's keys, each of its type.
function assertShape(value, context = '') {
  assert.ok(value && typeof value === 'object' && !Array.isArray(value), `${context}: ${JSON.stringify(value)}`);
  assert.deepEqual(Object.keys(value).sort(), ['available', 'genres', 'rating', 'title', 'year'], context);
  assert.equal(typeof value.title, 'string', context);
  assert.ok(Number.isInteger(value.year), context);
  assert.equal(typeof value.rating, 'number', context);
  assert.equal(typeof value.available, 'boolean', context);
  assert.ok(Array.isArray(value.genres) && value.genres.every((g) => typeof g === 'string'), context);
}

// What the upstream was asked for, whichever wire: the structured-output request it received.
function assertUpstreamAskedForSchema(sent, upstream) {
  const body = JSON.stringify(sent.body);
  if (upstream === 'chat') {
    assert.equal(sent.body.response_format?.type, 'json_schema', body);
    assert.deepEqual(Object.keys(sent.body.response_format.json_schema.schema.properties).sort(),
      Object.keys(SCHEMA.properties).sort(), body);
  } else if (upstream === 'responses') {
    assert.equal(sent.body.text?.format?.type, 'json_schema', body);
    assert.deepEqual(Object.keys(sent.body.text.format.schema.properties).sort(),
      Object.keys(SCHEMA.properties).sort(), body);
  } else {
    // claude-haiku-4.5 lists json_schema: Anthropic's native output_config.format.
    assert.equal(sent.body.output_config?.format?.type, 'json_schema', body);
    assert.deepEqual(Object.keys(sent.body.output_config.format.schema.properties).sort(),
      Object.keys(SCHEMA.properties).sort(), body);
  }
}

const PROMPT = 'Describe the film Metropolis as JSON.';

describe('structured output and token counting through the gateway', () => {
  let demo;
  let openai;
  let anthropic;
  shareDemo(async (d) => {
    demo = d;
    openai = new OpenAI({ apiKey: 'sk-client', baseURL: `${demo.url}/v1`, maxRetries: 0,
      timeout: 30000 });
    anthropic = new Anthropic({ apiKey: 'sk-ant-client', baseURL: demo.url, maxRetries: 0,
      timeout: 30000 });
  });

  const upstreamCalls = async (target) =>
    modelRequests(await emulator.requests(demo.emulatorUrl))
      .filter((r) => target.upstreamPath.test(r.path));

  for (const target of TARGETS) {
    const { model } = target;

    test(`openai chat.completions.parse (json_schema) -> ${model}`, async () => {
      const completion = await openai.chat.completions.parse({
        model, messages: [{ role: 'user', content: PROMPT }],
        response_format: { type: 'json_schema', json_schema: { name: 'film', schema: SCHEMA, strict: true } },
      });
      const choice = completion.choices[0];
      assert.equal(choice.finish_reason, 'stop', JSON.stringify(choice));
      assert.equal(choice.message.tool_calls ?? undefined, undefined, JSON.stringify(choice.message));
      assertShape(choice.message.parsed, choice.message.content);
      assert.deepEqual(JSON.parse(choice.message.content), choice.message.parsed);
      const [sent] = await upstreamCalls(target);
      assertUpstreamAskedForSchema(sent, target.upstream);
    });

    test(`openai chat stream (json_schema) -> ${model}: the streamed content is the JSON`, async () => {
      const stream = openai.chat.completions.stream({
        model, messages: [{ role: 'user', content: PROMPT }],
        response_format: { type: 'json_schema', json_schema: { name: 'film', schema: SCHEMA, strict: true } },
      });
      let deltas = '';
      stream.on('content', (d) => {
        deltas += d;
      });
      const final = await stream.finalChatCompletion();
      assert.equal(final.choices[0].finish_reason, 'stop');
      assert.equal(final.choices[0].message.content, deltas);
      assertShape(JSON.parse(deltas), deltas);
    });

    test(`openai responses.parse (text.format json_schema) -> ${model}`, async () => {
      const response = await openai.responses.parse({
        model, input: PROMPT,
        text: { format: { type: 'json_schema', name: 'film', schema: SCHEMA, strict: true } },
      });
      assert.equal(response.status, 'completed');
      assertShape(response.output_parsed, response.output_text);
      const [sent] = await upstreamCalls(target);
      assertUpstreamAskedForSchema(sent, target.upstream);
    });

    test(`anthropic messages.parse (output_config.format) -> ${model}`, async () => {
      const message = await anthropic.messages.parse({
        model, max_tokens: 1024, messages: [{ role: 'user', content: PROMPT }],
        output_config: { format: jsonSchemaOutputFormat(SCHEMA) },
      });
      assert.equal(message.type, 'message');
      assert.equal(message.stop_reason, 'end_turn', JSON.stringify(message));
      assert.ok(message.content.every((b) => b.type === 'text'), JSON.stringify(message.content));
      assertShape(message.parsed_output, JSON.stringify(message.content));
      const [sent] = await upstreamCalls(target);
      assertUpstreamAskedForSchema(sent, target.upstream);
      if (target.upstream === 'chat') {
        assert.equal(sent.body.response_format.json_schema.strict, true);
        assert.equal(sent.body.output_config, undefined);
      }
    });
  }

  test('anthropic stream from a Chat model: message_start carries the input estimate', async () => {
    const stream = anthropic.messages.stream({ model: 'gpt-5.5', max_tokens: 256,
      messages: [{ role: 'user', content: 'Tell me about trains' }] });
    let start;
    stream.on('streamEvent', (e) => {
      if (e.type === 'message_start') start = e;
    });
    const final = await stream.finalMessage();
    assert.ok(start, 'message_start seen');
    assert.ok(start.message.usage.input_tokens > 0, JSON.stringify(start.message.usage));
    assert.ok(final.usage.output_tokens > 0);
  });

  test(`openai json_object -> ${CLAUDE}: the content is a JSON object`, async () => {
    const completion = await openai.chat.completions.create({
      model: CLAUDE, response_format: { type: 'json_object' },
      messages: [{ role: 'user', content: 'List three colours. Answer in JSON.' }],
    });
    const choice = completion.choices[0];
    assert.equal(choice.finish_reason, 'stop', JSON.stringify(choice));
    assert.equal(choice.message.tool_calls ?? undefined, undefined, JSON.stringify(choice.message));
    const value = JSON.parse(choice.message.content);
    assert.ok(value && typeof value === 'object' && !Array.isArray(value), choice.message.content);
    // Anthropic has no JSON mode: the gateway forces a tool whose input is the answer.
    const [sent] = await modelRequests(await emulator.requests(demo.emulatorUrl));
    assert.equal(sent.body.tool_choice?.type, 'tool', JSON.stringify(sent.body));
    assert.ok(sent.body.tools.some((t) => t.name === sent.body.tool_choice.name), JSON.stringify(sent.body));
  });

  test(`openai json_object stream -> ${CLAUDE}: the forced tool comes back as content`, async () => {
    const stream = openai.chat.completions.stream({
      model: CLAUDE, response_format: { type: 'json_object' },
      messages: [{ role: 'user', content: 'List three colours. Answer in JSON.' }],
    });
    let deltas = '';
    stream.on('content', (d) => {
      deltas += d;
    });
    const final = await stream.finalChatCompletion();
    assert.equal(final.choices[0].finish_reason, 'stop');
    assert.equal(final.choices[0].message.tool_calls ?? undefined, undefined);
    assert.equal(final.choices[0].message.content, deltas);
    const value = JSON.parse(deltas);
    assert.ok(value && typeof value === 'object' && !Array.isArray(value), deltas);
  });

  for (const [model, source] of [[CLAUDE, 'upstream'], ['gpt-5.5', 'estimated']]) {
    test(`anthropic messages.countTokens -> ${model}: x-switchyard-token-count ${source}`, async () => {
      const { data, response } = await anthropic.messages
        .countTokens({ model, system: 'Be brief.', messages: [{ role: 'user', content: 'Hello there' }] })
        .withResponse();
      assert.ok(Number.isInteger(data.input_tokens) && data.input_tokens > 0, JSON.stringify(data));
      assert.equal(response.headers.get('x-switchyard-token-count'), source);
      const counted = (await emulator.requests(demo.emulatorUrl))
        .filter((r) => /\/messages\/count_tokens$/.test(r.path));
      assert.equal(counted.length, source === 'upstream' ? 1 : 0);
      assert.deepEqual(modelRequests(await emulator.requests(demo.emulatorUrl)), [],
        'counting generates nothing');
    });
  }

  test(`the dated id ${CLAUDE_DATED} reaches ${CLAUDE}`, async () => {
    const { data, response } = await anthropic.messages
      .create({ model: CLAUDE_DATED, max_tokens: 256, messages: [{ role: 'user', content: 'Say hello' }] })
      .withResponse();
    assert.equal(data.type, 'message');
    assert.ok(data.content[0].text.length > 0);
    assert.equal(response.headers.get('x-switchyard-model'), CLAUDE);
    assert.match(response.headers.get('x-switchyard-cost-usd') ?? '', DECIMAL_RE);
    const [sent] = modelRequests(await emulator.requests(demo.emulatorUrl));
    assert.match(sent.path, /\/v1\/messages$/);

    const found = await getJson(`${demo.url}/v1/models/${CLAUDE_DATED}`);
    assert.equal(found.status, 200, found.text);
    const caps = found.json.switchyard?.capabilities_by_dialect;
    assert.ok(caps && typeof caps === 'object', found.text);
  });

  testCleanShutdown(() => demo);
});
