// The official openai SDK against the gateway's /v1/chat/completions for a model whose provider
// speaks Anthropic Messages: every request and answer is translated, and the SDK must not notice.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';

import OpenAI from 'openai';

import { DECIMAL_RE, emulator, modelRequests, shareDemo,
  testCleanShutdown } from '../testutil/harness.mjs';

import { OPENAI_WEATHER_TOOL } from './weather_tool.mjs';

const CLAUDE = 'claude-haiku-4.5';

describe(`openai SDK -> gateway -> Anthropic-kind model (${CLAUDE})`, () => {
  let demo;
  let client;
  shareDemo(async (d) => {
    demo = d;
    client = new OpenAI({ apiKey: 'sk-client', baseURL: `${demo.url}/v1`, maxRetries: 0,
      timeout: 30000 });
  });

  const sentToAnthropic = async () =>
    modelRequests(await emulator.requests(demo.emulatorUrl)).filter((r) => /\/messages$/.test(r.path));

  test('non-stream: a chat.completion translated from a Message', async () => {
    const { data, response } = await client.chat.completions
      .create({
        model: CLAUDE,
        messages: [{ role: 'system', content: 'You are terse.' }, { role: 'user', content: 'Say hello' }],
        max_completion_tokens: 200,
        stop: ['\n\n\n'],
      })
      .withResponse();
    assert.equal(data.object, 'chat.completion');
    assert.equal(data.choices[0].message.role, 'assistant');
    assert.ok(data.choices[0].message.content.length > 0);
    assert.equal(data.choices[0].finish_reason, 'stop');
    assert.equal(data.usage.total_tokens, data.usage.prompt_tokens + data.usage.completion_tokens);
    assert.equal(response.headers.get('x-switchyard-model'), CLAUDE);
    assert.match(response.headers.get('x-switchyard-cost-usd') ?? '', DECIMAL_RE);
    const [sent] = await sentToAnthropic();
    assert.equal(sent.headers['anthropic-version'], '2023-06-01');
    assert.equal(sent.body.max_tokens, 200);
    assert.deepEqual(sent.body.stop_sequences, ['\n\n\n']);
    assert.equal(JSON.stringify(sent.body.system).includes('You are terse.'), true);
    assert.ok(sent.body.messages.every((m) => m.role !== 'system'));
  });

  test('stream: chunks with a usage chunk carrying cost_usd', async () => {
    const stream = await client.chat.completions.create({
      model: CLAUDE,
      messages: [{ role: 'user', content: 'Tell me about trains' }],
      stream: true,
      stream_options: { include_usage: true },
    });
    let text = '';
    let last;
    for await (const chunk of stream) {
      assert.equal(chunk.object, 'chat.completion.chunk');
      text += chunk.choices[0]?.delta?.content ?? '';
      last = chunk;
    }
    assert.ok(text.length > 0);
    assert.ok(last.usage && last.usage.completion_tokens > 0, JSON.stringify(last));
    assert.match(last.usage.cost_usd ?? '', DECIMAL_RE);
  });

  test('stream helper: finalChatCompletion() equals the streamed deltas', async () => {
    const stream = client.chat.completions.stream({
      model: CLAUDE, messages: [{ role: 'user', content: 'Tell me about boats' }],
    });
    let deltas = '';
    stream.on('content', (d) => {
      deltas += d;
    });
    const final = await stream.finalChatCompletion();
    assert.equal(final.choices[0].message.content, deltas);
    assert.ok(deltas.length > 0);
    assert.equal(final.choices[0].finish_reason, 'stop');
  });

  test('tools round trip: tool_calls -> tool message -> final text', async () => {
    const messages = [{ role: 'user', content: 'What is the weather in Lisbon?' }];
    const first = await client.chat.completions.create({
      model: CLAUDE, messages, tools: [OPENAI_WEATHER_TOOL], tool_choice: 'required',
    });
    const choice = first.choices[0];
    assert.equal(choice.finish_reason, 'tool_calls');
    const call = choice.message.tool_calls?.[0];
    assert.ok(call, JSON.stringify(choice.message));
    assert.equal(call.function.name, 'get_weather');
    assert.equal(typeof JSON.parse(call.function.arguments).city, 'string');

    messages.push(choice.message);
    messages.push({ role: 'tool', tool_call_id: call.id, content: '{"temp_c": 21}' });
    const second = await client.chat.completions.create({ model: CLAUDE, messages, tools: [OPENAI_WEATHER_TOOL] });
    assert.equal(second.choices[0].finish_reason, 'stop');
    assert.match(second.choices[0].message.content, /tool returned/i);

    const last = (await sentToAnthropic()).at(-1).body;
    const result = last.messages.at(-1).content.find((b) => b.type === 'tool_result');
    assert.equal(result.tool_use_id, call.id);
    assert.equal(last.messages.at(-2).content.find((b) => b.type === 'tool_use').id, call.id);
  });

  test('streamed tool call: the helper assembles it from translated deltas', async () => {
    const stream = client.chat.completions.stream({
      model: CLAUDE, messages: [{ role: 'user', content: 'Weather in Oslo?' }],
      tools: [OPENAI_WEATHER_TOOL], tool_choice: { type: 'function', function: { name: 'get_weather' } },
    });
    const final = await stream.finalChatCompletion();
    const call = final.choices[0].message.tool_calls?.[0];
    assert.ok(call, JSON.stringify(final.choices[0]));
    assert.equal(typeof JSON.parse(call.function.arguments).city, 'string');
    assert.equal(final.choices[0].finish_reason, 'tool_calls');
  });

  test('a feature Anthropic cannot express -> BadRequestError naming the param', async () => {
    await assert.rejects(
      client.chat.completions.create({ model: CLAUDE, n: 2, messages: [{ role: 'user', content: 'x' }] }),
      (err) => {
        assert.ok(err instanceof OpenAI.BadRequestError, `${err.constructor.name}: ${err.message}`);
        assert.equal(err.param, 'n');
        return true;
      });
    assert.equal((await sentToAnthropic()).length, 0, 'nothing was sent upstream');
  });

  test('Claude overloaded (529) everywhere -> 503 for the OpenAI client', async () => {
    await emulator.addFault(demo.emulatorUrl, { model: CLAUDE, status: 529, count: 5 });
    await assert.rejects(
      client.chat.completions.create({ model: CLAUDE, messages: [{ role: 'user', content: 'x' }] }),
      (err) => {
        assert.ok(err instanceof OpenAI.InternalServerError, `${err.constructor.name}: ${err.message}`);
        assert.equal(err.status, 503);
        return true;
      });
  });

  test('a chain crossing dialects: Gemini (OpenAI-kind) fails, Claude answers translated', async () => {
    await emulator.addFault(demo.emulatorUrl, { model: 'gemini-3.1-pro', status: 500, count: 5 });
    const { data, response } = await client.chat.completions
      .create({ model: 'long-context', messages: [{ role: 'user', content: 'Hi' }] })
      .withResponse();
    assert.equal(data.object, 'chat.completion');
    assert.ok(data.choices[0].message.content.length > 0);
    assert.equal(response.headers.get('x-switchyard-model'), 'claude-opus-4.7');
    assert.equal(response.headers.get('x-switchyard-attempts'), '2');
  });

  testCleanShutdown(() => demo);
});
