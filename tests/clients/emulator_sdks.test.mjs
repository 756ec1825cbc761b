// The official openai and @anthropic-ai/sdk clients pointed DIRECTLY at the emulator: if its wire
// formats fool the real SDKs, the gateway's tests against it mean something.
import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, test } from 'node:test';

import Anthropic from '@anthropic-ai/sdk';
import OpenAI from 'openai';

import { emulator, startEmulator } from '../testutil/harness.mjs';

const CLAUDE = 'claude-opus-4.7';

describe('SDKs -> emulator', () => {
  let emu;
  let openai;
  let anthropic;
  before(async () => {
    emu = await startEmulator();
    openai = new OpenAI({ apiKey: 'sk-test', baseURL: `${emu.url}/v1`, maxRetries: 0, timeout: 30000 });
    anthropic = new Anthropic({ apiKey: 'sk-ant-test', baseURL: emu.url, maxRetries: 0, timeout: 30000 });
  });
  after(async () => {
    await emu?.stop();
  });
  beforeEach(async () => {
    await emulator.reset(emu.url);
  });

  describe('openai', () => {
    test('non-stream', async () => {
      const res = await openai.chat.completions.create({
        model: 'gpt-5.5', messages: [{ role: 'user', content: 'Say hello' }],
      });
      assert.equal(res.object, 'chat.completion');
      assert.equal(res.model, 'gpt-5.5');
      assert.ok(res.choices[0].message.content.length > 0);
      assert.ok(res.usage.prompt_tokens > 0 && res.usage.completion_tokens > 0);
      const [seen] = await emulator.requests(emu.url);
      assert.equal(seen.headers.authorization, 'Bearer sk-test');
    });

    test('stream with usage, and the stream helper', async () => {
      const stream = await openai.chat.completions.create({
        model: 'deepseek-v4-flash', messages: [{ role: 'user', content: 'Count' }], stream: true,
        stream_options: { include_usage: true },
      });
      let text = '';
      let usage;
      for await (const chunk of stream) {
        text += chunk.choices[0]?.delta?.content ?? '';
        if (chunk.usage) usage = chunk.usage;
      }
      assert.ok(text.length > 0);
      assert.ok(usage?.completion_tokens > 0);

      const helper = openai.chat.completions.stream({
        model: 'deepseek-v4-flash', messages: [{ role: 'user', content: 'Count' }],
      });
      const final = await helper.finalChatCompletion();
      assert.equal(final.choices[0].message.content, text, 'deterministic: same request, same answer');
    });

    test('tool call round trip', async () => {
      const tools = [{
        type: 'function',
        function: { name: 'lookup', parameters: { type: 'object', properties: { q: { type: 'string' } },
          required: ['q'] } },
      }];
      const messages = [{ role: 'user', content: 'Look it up' }];
      const first = await openai.chat.completions.create({ model: 'gpt-5.5', messages, tools,
        tool_choice: 'required' });
      const call = first.choices[0].message.tool_calls[0];
      assert.equal(first.choices[0].finish_reason, 'tool_calls');
      assert.equal(call.function.name, 'lookup');
      assert.equal(typeof JSON.parse(call.function.arguments).q, 'string');
      messages.push(first.choices[0].message, { role: 'tool', tool_call_id: call.id, content: 'found 42' });
      const second = await openai.chat.completions.create({ model: 'gpt-5.5', messages, tools });
      assert.equal(second.choices[0].finish_reason, 'stop');
      assert.match(second.choices[0].message.content, /found 42/);
    });

    test('429 fault -> RateLimitError', async () => {
      await emulator.addFault(emu.url, { model: 'gpt-5.5', status: 429, count: 1, retry_after_s: 2 });
      await assert.rejects(
        openai.chat.completions.create({ model: 'gpt-5.5', messages: [{ role: 'user', content: 'x' }] }),
        (err) => {
          assert.ok(err instanceof OpenAI.RateLimitError, `${err.constructor.name}: ${err.message}`);
          assert.equal(err.status, 429);
          assert.equal(err.headers.get('retry-after'), '2');
          assert.equal(typeof err.error?.message, 'string');
          return true;
        });
    });
  });

  describe('anthropic', () => {
    test('non-stream', async () => {
      const msg = await anthropic.messages.create({
        model: CLAUDE, max_tokens: 256, messages: [{ role: 'user', content: 'Say hello' }],
      });
      assert.equal(msg.type, 'message');
      assert.equal(msg.role, 'assistant');
      assert.equal(msg.model, CLAUDE);
      assert.equal(msg.content[0].type, 'text');
      assert.ok(msg.content[0].text.length > 0);
      assert.equal(msg.stop_reason, 'end_turn');
      assert.ok(msg.usage.input_tokens > 0 && msg.usage.output_tokens > 0);
      const [seen] = await emulator.requests(emu.url);
      // Older SDKs send x-api-key, newer ones a bearer token; the emulator accepts both.
      assert.ok(seen.headers['x-api-key'] === 'sk-ant-test' ||
        seen.headers.authorization === 'Bearer sk-ant-test', JSON.stringify(seen.headers));
      assert.ok(seen.headers['anthropic-version']);
    });

    test('stream: messages.stream(...).finalMessage()', async () => {
      const stream = anthropic.messages.stream({
        model: CLAUDE, max_tokens: 256, messages: [{ role: 'user', content: 'Tell a story' }],
      });
      let text = '';
      stream.on('text', (delta) => {
        text += delta;
      });
      const msg = await stream.finalMessage();
      assert.equal(msg.content[0].type, 'text');
      assert.ok(msg.content[0].text.length > 0);
      assert.equal(msg.content[0].text, text);
      assert.ok(msg.usage.output_tokens > 0);
      assert.equal(msg.stop_reason, 'end_turn');
    });

    test('tool use round trip', async () => {
      const tools = [{
        name: 'get_weather', description: 'Weather for a city',
        input_schema: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] },
      }];
      const messages = [{ role: 'user', content: 'Weather in Rome?' }];
      const first = await anthropic.messages.create({ model: CLAUDE, max_tokens: 256, messages, tools,
        tool_choice: { type: 'tool', name: 'get_weather' } });
      assert.equal(first.stop_reason, 'tool_use');
      const use = first.content.find((b) => b.type === 'tool_use');
      assert.ok(use, JSON.stringify(first.content));
      assert.equal(use.name, 'get_weather');
      assert.equal(typeof use.input.city, 'string');
      messages.push({ role: 'assistant', content: first.content });
      messages.push({ role: 'user', content: [{ type: 'tool_result', tool_use_id: use.id, content: 'sunny, 24C' }] });
      const second = await anthropic.messages.create({ model: CLAUDE, max_tokens: 256, messages, tools });
      assert.equal(second.stop_reason, 'end_turn');
      assert.match(second.content.find((b) => b.type === 'text').text, /sunny, 24C/);
    });

    test('tool use, streamed: finalMessage assembles the input', async () => {
      const stream = anthropic.messages.stream({
        model: CLAUDE, max_tokens: 256, messages: [{ role: 'user', content: 'Weather in Rome?' }],
        tools: [{ name: 'get_weather', input_schema: { type: 'object', properties: { city: { type: 'string' } },
          required: ['city'] } }],
        tool_choice: { type: 'any' },
      });
      const msg = await stream.finalMessage();
      const use = msg.content.find((b) => b.type === 'tool_use');
      assert.ok(use, JSON.stringify(msg.content));
      assert.equal(typeof use.input.city, 'string');
    });

    test('429 fault -> RateLimitError', async () => {
      await emulator.addFault(emu.url, { model: CLAUDE, status: 429, count: 1, retry_after_s: 3 });
      await assert.rejects(
        anthropic.messages.create({ model: CLAUDE, max_tokens: 16, messages: [{ role: 'user', content: 'x' }] }),
        (err) => {
          assert.ok(err instanceof Anthropic.RateLimitError, `${err.constructor.name}: ${err.message}`);
          assert.equal(err.status, 429);
          assert.equal(err.error?.type, 'error');
          assert.equal(err.error?.error?.type, 'rate_limit_error');
          assert.equal(err.headers.get('retry-after'), '3');
          return true;
        });
    });
  });
});
