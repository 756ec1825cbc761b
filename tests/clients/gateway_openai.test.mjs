// The official openai SDK against the gateway (`switchyard demo`).
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';

import OpenAI from 'openai';

import { DECIMAL_RE, emulator, shareDemo,
  testCleanShutdown } from '../testutil/harness.mjs';

import { OPENAI_WEATHER_TOOL } from './weather_tool.mjs';

describe('openai SDK -> gateway', () => {
  let demo;
  let client;
  shareDemo(async (d) => {
    demo = d;
    client = new OpenAI({ apiKey: 'sk-client-not-checked', baseURL: `${demo.url}/v1`, maxRetries: 0,
      timeout: 30000 });
  });

  test('non-stream chat, with the x-switchyard headers on the raw response', async () => {
    const { data, response } = await client.chat.completions
      .create({ model: 'economy', messages: [{ role: 'user', content: 'Say hello' }] })
      .withResponse();
    assert.equal(data.object, 'chat.completion');
    assert.equal(data.choices[0].message.role, 'assistant');
    assert.ok(data.choices[0].message.content.length > 0);
    assert.equal(data.choices[0].finish_reason, 'stop');
    assert.ok(data.usage.total_tokens > 0);
    assert.equal(response.headers.get('x-switchyard-model'), 'deepseek-v4-flash');
    assert.match(response.headers.get('x-switchyard-cost-usd') ?? '', DECIMAL_RE);
  });

  test('stream: for await over chunks, usage chunk with cost_usd', async () => {
    const stream = await client.chat.completions.create({
      model: 'economy',
      messages: [{ role: 'user', content: 'Tell me about trains' }],
      stream: true,
      stream_options: { include_usage: true },
    });
    let text = '';
    let chunks = 0;
    let last;
    for await (const chunk of stream) {
      ++chunks;
      text += chunk.choices[0]?.delta?.content ?? '';
      last = chunk;
    }
    assert.ok(chunks >= 3, `chunks: ${chunks}`);
    assert.ok(text.length > 0);
    assert.ok(last.usage, 'the last chunk carries usage');
    assert.ok(last.usage.completion_tokens > 0);
    assert.match(last.usage.cost_usd ?? '', DECIMAL_RE);
  });

  test('stream helper: chat.completions.stream().finalChatCompletion()', async () => {
    const stream = client.chat.completions.stream({
      model: 'economy',
      messages: [{ role: 'user', content: 'Tell me about boats' }],
    });
    let deltas = '';
    stream.on('content', (delta) => {
      deltas += delta;
    });
    const final = await stream.finalChatCompletion();
    assert.equal(final.choices[0].message.role, 'assistant');
    assert.ok(final.choices[0].message.content.length > 0);
    assert.equal(final.choices[0].message.content, deltas);
    assert.equal(final.choices[0].finish_reason, 'stop');
  });

  test('tools: tool_calls -> tool message -> final text', async () => {
    const messages = [{ role: 'user', content: 'What is the weather in Lisbon?' }];
    const first = await client.chat.completions.create({
      model: 'economy', messages, tools: [OPENAI_WEATHER_TOOL], tool_choice: 'required',
    });
    const choice = first.choices[0];
    assert.equal(choice.finish_reason, 'tool_calls');
    const call = choice.message.tool_calls?.[0];
    assert.ok(call, `a tool call: ${JSON.stringify(choice.message)}`);
    assert.equal(call.type, 'function');
    assert.equal(call.function.name, 'get_weather');
    const args = JSON.parse(call.function.arguments);
    assert.equal(typeof args.city, 'string');

    messages.push(choice.message);
    messages.push({ role: 'tool', tool_call_id: call.id, content: '{"temp_c": 21, "sky": "clear"}' });
    const second = await client.chat.completions.create({ model: 'economy', messages,
      tools: [OPENAI_WEATHER_TOOL] });
    assert.equal(second.choices[0].finish_reason, 'stop');
    assert.match(second.choices[0].message.content, /tool returned/i);

    // The gateway passed the whole conversation through.
    const seen = (await emulator.requests(demo.emulatorUrl)).filter((r) => /chat\/completions$/.test(r.path));
    const last = seen.at(-1).body;
    assert.equal(last.messages.at(-1).role, 'tool');
    assert.equal(last.messages.at(-1).tool_call_id, call.id);
    assert.equal(last.messages.at(-2).tool_calls[0].id, call.id);
  });

  test('tools, streamed: the helper assembles the tool call from deltas', async () => {
    const stream = client.chat.completions.stream({
      model: 'economy',
      messages: [{ role: 'user', content: 'Weather in Oslo?' }],
      tools: [OPENAI_WEATHER_TOOL],
      tool_choice: { type: 'function', function: { name: 'get_weather' } },
    });
    const final = await stream.finalChatCompletion();
    const call = final.choices[0].message.tool_calls?.[0];
    assert.ok(call, JSON.stringify(final.choices[0]));
    assert.equal(call.function.name, 'get_weather');
    assert.equal(typeof JSON.parse(call.function.arguments).city, 'string');
  });

  test('response_format json_schema: the answer parses and fits the schema', async () => {
    const res = await client.chat.completions.create({
      model: 'economy',
      messages: [{ role: 'user', content: 'Describe a city.' }],
      response_format: {
        type: 'json_schema',
        json_schema: {
          name: 'city',
          strict: true,
          schema: {
            type: 'object',
            properties: {
              name: { type: 'string' },
              population: { type: 'integer' },
              coastal: { type: 'boolean' },
            },
            required: ['name', 'population', 'coastal'],
            additionalProperties: false,
          },
        },
      },
    });
    const parsed = JSON.parse(res.choices[0].message.content);
    assert.equal(typeof parsed.name, 'string');
    assert.ok(Number.isInteger(parsed.population));
    assert.equal(typeof parsed.coastal, 'boolean');
    assert.deepEqual(Object.keys(parsed).sort(), ['coastal', 'name', 'population']);
  });

  test('unknown model -> NotFoundError 404', async () => {
    await assert.rejects(
      client.chat.completions.create({ model: 'gpt-9-ultra', messages: [{ role: 'user', content: 'x' }] }),
      (err) => {
        assert.ok(err instanceof OpenAI.NotFoundError, `${err.constructor.name}: ${err.message}`);
        assert.equal(err.status, 404);
        assert.equal(err.code, 'model_not_found');
        assert.equal(err.param, 'model');
        return true;
      });
  });

  test('bad request -> BadRequestError 400 naming the param', async () => {
    await assert.rejects(
      client.chat.completions.create({ model: 'economy', messages: 'hi' }),
      (err) => {
        assert.ok(err instanceof OpenAI.BadRequestError, `${err.constructor.name}: ${err.message}`);
        assert.equal(err.status, 400);
        assert.equal(err.param, 'messages');
        assert.equal(err.type, 'invalid_request_error');
        return true;
      });
  });

  test('every model fails with 500 -> InternalServerError (502)', async () => {
    for (const model of ['deepseek-v4-flash', 'kimi-k2.6', 'gpt-5.5']) {
      await emulator.addFault(demo.emulatorUrl, { model, status: 500, count: 10 });
    }
    await assert.rejects(
      client.chat.completions.create({ model: 'economy', messages: [{ role: 'user', content: 'x' }] }),
      (err) => {
        assert.ok(err instanceof OpenAI.InternalServerError, `${err.constructor.name}: ${err.message}`);
        assert.equal(err.status, 502);
        assert.match(err.message, /deepseek-v4-flash/);
        return true;
      });
  });

  test('every model answers 429 -> RateLimitError', async () => {
    for (const model of ['deepseek-v4-flash', 'kimi-k2.6', 'gpt-5.5']) {
      await emulator.addFault(demo.emulatorUrl, { model, status: 429, count: 10 });
    }
    await assert.rejects(
      client.chat.completions.create({ model: 'economy', messages: [{ role: 'user', content: 'x' }] }),
      (err) => {
        assert.ok(err instanceof OpenAI.RateLimitError, `${err.constructor.name}: ${err.message}`);
        assert.equal(err.status, 429);
        return true;
      });
  });

  testCleanShutdown(() => demo);
});
