// The official @anthropic-ai/sdk against the gateway's /v1/messages, once for a model whose
// provider speaks Anthropic Messages (passed through) and once for a model behind an
// OpenAI-compatible provider (translated both ways). The same assertions hold for both: the SDK
// must not be able to tell.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';

import Anthropic from '@anthropic-ai/sdk';

import { DECIMAL_RE, emulator, modelRequests, shareDemo,
  testCleanShutdown } from '../testutil/harness.mjs';

import { ANTHROPIC_WEATHER_TOOL } from './weather_tool.mjs';

// visionModel: a model of the same kind that lists the vision capability (routing refuses images
// for a model without it, e.g. deepseek-v4-flash).
const TARGETS = [
  { name: 'Anthropic-kind model', model: 'claude-haiku-4.5', visionModel: 'claude-haiku-4.5',
    upstreamPath: /\/v1\/messages$/ },
  { name: 'OpenAI-kind model', model: 'deepseek-v4-flash', visionModel: 'gpt-5.5',
    upstreamPath: /\/v1\/chat\/completions$/ },
];

for (const target of TARGETS) {
  describe(`anthropic SDK -> gateway -> ${target.name} (${target.model})`, () => {
    let demo;
    let client;
    shareDemo(async (d) => {
      demo = d;
      client = new Anthropic({ apiKey: 'sk-ant-client', baseURL: demo.url, maxRetries: 0,
        timeout: 30000 });
    });

    const upstreamCalls = async () =>
      modelRequests(await emulator.requests(demo.emulatorUrl))
        .filter((r) => target.upstreamPath.test(r.path));

    test('non-stream: a Message with text, stop_reason and usage; headers carry the cost', async () => {
      const { data, response } = await client.messages
        .create({
          model: target.model,
          max_tokens: 256,
          system: 'You are terse.',
          messages: [{ role: 'user', content: 'Say hello' }],
        })
        .withResponse();
      assert.equal(data.type, 'message');
      assert.equal(data.role, 'assistant');
      assert.equal(data.content[0].type, 'text');
      assert.ok(data.content[0].text.length > 0);
      assert.equal(data.stop_reason, 'end_turn');
      assert.ok(data.usage.input_tokens > 0 && data.usage.output_tokens > 0, JSON.stringify(data.usage));
      assert.equal(response.headers.get('x-switchyard-model'), target.model);
      assert.match(response.headers.get('x-switchyard-cost-usd') ?? '', DECIMAL_RE);
      const [sent] = await upstreamCalls();
      assert.ok(sent, 'the upstream got the request in its own dialect');
    });

    test('stream helper: messages.stream().finalMessage() assembles the text events', async () => {
      const stream = client.messages.stream({
        model: target.model,
        max_tokens: 256,
        messages: [{ role: 'user', content: 'Tell me about trains' }],
      });
      let deltas = '';
      stream.on('text', (t) => {
        deltas += t;
      });
      const types = new Set();
      stream.on('streamEvent', (e) => types.add(e.type));
      const final = await stream.finalMessage();
      assert.equal(final.content[0].type, 'text');
      assert.equal(final.content[0].text, deltas);
      assert.ok(deltas.length > 0);
      assert.equal(final.stop_reason, 'end_turn');
      assert.ok(final.usage.output_tokens > 0);
      assert.ok(final.usage.input_tokens > 0, JSON.stringify(final.usage));
      for (const t of ['message_start', 'content_block_start', 'content_block_delta',
        'content_block_stop', 'message_delta', 'message_stop']) {
        assert.ok(types.has(t), `saw ${t}: ${[...types]}`);
      }
    });

    test('max_tokens and stop_sequences: the stop reasons come back', async () => {
      const short = await client.messages.create({
        model: target.model, max_tokens: 3,
        messages: [{ role: 'user', content: 'Tell me a long story about rivers' }],
      });
      assert.equal(short.stop_reason, 'max_tokens');
      assert.ok(short.usage.output_tokens <= 3, JSON.stringify(short.usage));
      const [sent] = (await upstreamCalls()).slice(-1);
      const limit = sent.body.max_tokens ?? sent.body.max_completion_tokens;
      assert.equal(limit, 3);

      // "e" is in nearly every word the emulator writes: the answer stops before the first one.
      const stopped = await client.messages.create({
        model: target.model, max_tokens: 64, stop_sequences: ['e'],
        messages: [{ role: 'user', content: 'Tell me a long story about rivers' }],
      });
      const text = stopped.content.map((b) => b.text ?? '').join('');
      assert.ok(!text.includes('e'), text);
      const [withStop] = (await upstreamCalls()).slice(-1);
      assert.deepEqual(withStop.body.stop_sequences ?? withStop.body.stop, ['e']);
      if (target.upstreamPath.test('/v1/messages')) {
        assert.equal(stopped.stop_reason, 'stop_sequence');
        assert.equal(stopped.stop_sequence, 'e');
      } else {
        // OpenAI does not say which stop sequence fired (docs/api.md).
        assert.equal(stopped.stop_reason, 'end_turn');
        assert.equal(stopped.stop_sequence, null);
      }
    });

    test('tool use round trip: tool_use -> tool_result -> final text', async () => {
      const messages = [{ role: 'user', content: 'What is the weather in Lisbon?' }];
      const first = await client.messages.create({
        model: target.model, max_tokens: 512, messages, tools: [ANTHROPIC_WEATHER_TOOL],
        tool_choice: { type: 'any' },
      });
      assert.equal(first.stop_reason, 'tool_use');
      const use = first.content.find((b) => b.type === 'tool_use');
      assert.ok(use, JSON.stringify(first.content));
      assert.equal(use.name, 'get_weather');
      assert.equal(typeof use.input.city, 'string');

      messages.push({ role: 'assistant', content: first.content });
      messages.push({ role: 'user', content: [
        { type: 'tool_result', tool_use_id: use.id, content: '{"temp_c": 21, "sky": "clear"}' },
      ] });
      const second = await client.messages.create({
        model: target.model, max_tokens: 512, messages, tools: [ANTHROPIC_WEATHER_TOOL],
      });
      assert.equal(second.stop_reason, 'end_turn');
      assert.match(second.content.find((b) => b.type === 'text').text, /tool returned/i);

      // The upstream saw the tool result tied to the tool call, in its own dialect.
      const last = (await upstreamCalls()).at(-1).body;
      const text = JSON.stringify(last.messages);
      assert.ok(text.includes(use.id), text);
    });

    test('streamed tool use: input_json_delta events assemble the input', async () => {
      const stream = client.messages.stream({
        model: target.model, max_tokens: 512,
        messages: [{ role: 'user', content: 'Weather in Oslo?' }],
        tools: [ANTHROPIC_WEATHER_TOOL], tool_choice: { type: 'tool', name: 'get_weather' },
      });
      let partial = '';
      stream.on('inputJson', (delta) => {
        partial += delta;
      });
      const final = await stream.finalMessage();
      const use = final.content.find((b) => b.type === 'tool_use');
      assert.ok(use, JSON.stringify(final.content));
      assert.equal(typeof use.input.city, 'string');
      assert.deepEqual(JSON.parse(partial), use.input);
      assert.equal(final.stop_reason, 'tool_use');
    });

    test('an image as a base64 block reaches the model', async () => {
      const png = 'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==';
      const messages = [{ role: 'user', content: [
        { type: 'image', source: { type: 'base64', media_type: 'image/png', data: png } },
        { type: 'text', text: 'What is in this image?' },
      ] }];
      const res = await client.messages.create({ model: target.visionModel, max_tokens: 64, messages });
      assert.equal(res.type, 'message');
      const sent = JSON.stringify((await upstreamCalls()).at(-1).body);
      assert.ok(sent.includes(png), 'the image bytes were forwarded');
      if (target.visionModel === target.model) return;
      // A model without vision is never sent an image: a 400 naming the capability.
      await assert.rejects(client.messages.create({ model: target.model, max_tokens: 64, messages }),
        (err) => {
          assert.ok(err instanceof Anthropic.BadRequestError, `${err.constructor.name}: ${err.message}`);
          assert.match(err.message, /no model satisfies capability: \S+: lacks capability vision/);
          return true;
        });
    });

    test('errors: the SDK raises its own classes with Anthropic error types', async () => {
      await assert.rejects(
        client.messages.create({ model: 'claude-9-ultra', max_tokens: 10,
          messages: [{ role: 'user', content: 'x' }] }),
        (err) => {
          assert.ok(err instanceof Anthropic.NotFoundError, `${err.constructor.name}: ${err.message}`);
          assert.equal(err.error?.type, 'error');
          assert.equal(err.error?.error?.type, 'not_found_error');
          return true;
        });
      await assert.rejects(
        client.messages.create({ model: target.model, messages: [{ role: 'user', content: 'x' }] }),
        (err) => {
          assert.ok(err instanceof Anthropic.BadRequestError, `${err.constructor.name}: ${err.message}`);
          assert.equal(err.error?.error?.type, 'invalid_request_error');
          assert.match(err.error?.error?.message ?? '', /max_tokens/);
          return true;
        });
    });

    test('an upstream 429 with retry-after -> RateLimitError', async () => {
      await emulator.addFault(demo.emulatorUrl, { model: target.model, status: 429, count: 10,
        retry_after_s: 60 });
      await assert.rejects(
        client.messages.create({ model: target.model, max_tokens: 10,
          messages: [{ role: 'user', content: 'x' }] }),
        (err) => {
          assert.ok(err instanceof Anthropic.RateLimitError, `${err.constructor.name}: ${err.message}`);
          assert.equal(err.error?.error?.type, 'rate_limit_error');
          return true;
        });
    });

    testCleanShutdown(() => demo);
  });
}

describe('anthropic SDK -> gateway: dialect-wide behaviour', () => {
  let demo;
  let client;
  shareDemo(async (d) => {
    demo = d;
    client = new Anthropic({ apiKey: 'sk-ant-client', baseURL: demo.url, maxRetries: 0,
      timeout: 30000 });
  });

  test('529 overloaded on Claude fails over to GPT-5.5 (alias frontier), translated', async () => {
    await emulator.addFault(demo.emulatorUrl, { model: 'claude-opus-4.7', status: 529, count: 5 });
    const { data, response } = await client.messages
      .create({ model: 'frontier', max_tokens: 128, messages: [{ role: 'user', content: 'Hi' }] })
      .withResponse();
    assert.equal(data.type, 'message');
    assert.equal(data.content[0].type, 'text');
    assert.equal(response.headers.get('x-switchyard-model'), 'gpt-5.5');
    assert.equal(response.headers.get('x-switchyard-attempts'), '2');
  });

  test('every candidate overloaded -> 529 overloaded_error', async () => {
    await emulator.addFault(demo.emulatorUrl, { model: 'claude-haiku-4.5', status: 529, count: 5 });
    await assert.rejects(
      client.messages.create({ model: 'claude-haiku-4.5', max_tokens: 10,
        messages: [{ role: 'user', content: 'x' }] }),
      (err) => {
        assert.equal(err.status, 529, `${err.constructor.name}: ${err.message}`);
        assert.equal(err.error?.error?.type, 'overloaded_error');
        return true;
      });
  });

  test('models.list answers in Anthropic shape, paginated', async () => {
    const ids = [];
    for await (const m of client.models.list({ limit: 3 })) {
      assert.equal(m.type, 'model');
      assert.equal(typeof m.display_name, 'string');
      ids.push(m.id);
    }
    assert.ok(ids.includes('claude-opus-4.7') && ids.includes('gpt-5.5'), ids.join(','));
    assert.equal(new Set(ids).size, ids.length, 'no entry twice across pages');
    const one = await client.models.retrieve('claude-opus-4.7');
    assert.equal(one.id, 'claude-opus-4.7');
  });

  testCleanShutdown(() => demo);
});
