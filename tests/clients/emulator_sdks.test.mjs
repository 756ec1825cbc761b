// The official openai and @anthropic-ai/sdk clients pointed DIRECTLY at the emulator: if its wire
// formats fool the real SDKs, the gateway's tests against it mean something.
import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, test } from 'node:test';

import Anthropic from '@anthropic-ai/sdk';
import { jsonSchemaOutputFormat } from '@anthropic-ai/sdk/helpers/json-schema';
import OpenAI from 'openai';

import { emulator, modelRequests, startEmulator } from '../testutil/harness.mjs';

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

    test('responses.create (JSON)', async () => {
      const res = await openai.responses.create({
        model: 'gpt-5.5', input: 'Say hello', instructions: 'Be brief', metadata: { run: '1' },
      });
      assert.equal(res.object, 'response');
      assert.match(res.id, /^resp_/);
      assert.equal(res.status, 'completed');
      assert.equal(res.model, 'gpt-5.5');
      assert.equal(res.instructions, 'Be brief');
      assert.deepEqual(res.metadata, { run: '1' });
      assert.equal(res.output[0].type, 'message');
      assert.match(res.output[0].id, /^msg_/);
      assert.equal(res.output[0].content[0].type, 'output_text');
      assert.ok(res.output_text.length > 0);
      assert.equal(res.output_text, res.output[0].content[0].text);
      assert.ok(res.usage.input_tokens > 0 && res.usage.output_tokens > 0);
      assert.equal(res.usage.total_tokens, res.usage.input_tokens + res.usage.output_tokens);
      assert.equal(res.usage.input_tokens_details.cached_tokens, 0);
      const [seen] = await emulator.requests(emu.url);
      assert.equal(seen.path, '/v1/responses');
    });

    test('responses.stream: finalResponse() text equals the deltas', async () => {
      const stream = openai.responses.stream({ model: 'gpt-5.5', input: 'Tell a story' });
      let text = '';
      const types = [];
      stream.on('response.output_text.delta', (event) => {
        text += event.delta;
      });
      stream.on('event', (event) => types.push(event.type));
      const final = await stream.finalResponse();
      assert.ok(text.length > 0);
      assert.equal(final.output_text, text);
      assert.equal(final.status, 'completed');
      assert.ok(final.usage.output_tokens > 0);
      assert.deepEqual(types.slice(0, 4), ['response.created', 'response.in_progress',
        'response.output_item.added', 'response.content_part.added']);
      assert.equal(types.at(-1), 'response.completed');
      const plain = await openai.responses.create({ model: 'gpt-5.5', input: 'Tell a story' });
      assert.equal(plain.output_text, text, 'deterministic: same request, same answer');
    });

    test('responses: max_output_tokens gives an incomplete response', async () => {
      const res = await openai.responses.create({ model: 'gpt-5.5', input: 'Tell a story',
        max_output_tokens: 16 });
      assert.equal(res.status, 'incomplete');
      assert.equal(res.incomplete_details.reason, 'max_output_tokens');
    });

    test('responses: function call round trip', async () => {
      const tools = [{
        type: 'function', name: 'lookup', strict: true,
        parameters: { type: 'object', properties: { q: { type: 'string' } }, required: ['q'],
          additionalProperties: false },
      }];
      const input = [{ role: 'user', content: 'Look it up' }];
      const first = await openai.responses.create({ model: 'gpt-5.5', input, tools, tool_choice: 'required' });
      const call = first.output.find((item) => item.type === 'function_call');
      assert.ok(call, JSON.stringify(first.output));
      assert.equal(call.name, 'lookup');
      assert.match(call.id, /^fc_/);
      assert.match(call.call_id, /^call_/);
      assert.equal(typeof JSON.parse(call.arguments).q, 'string');
      input.push(call, { type: 'function_call_output', call_id: call.call_id, output: 'found 42' });
      const stream = openai.responses.stream({ model: 'gpt-5.5', input, tools });
      const second = await stream.finalResponse();
      assert.equal(second.status, 'completed');
      assert.match(second.output_text, /found 42/);
    });

    test('responses.parse with a JSON-schema text format', async () => {
      const schema = {
        type: 'object',
        properties: { city: { type: 'string' }, days: { type: 'integer' },
          tags: { type: 'array', items: { type: 'string' } } },
        required: ['city', 'days', 'tags'], additionalProperties: false,
      };
      const res = await openai.responses.parse({
        model: 'gpt-5.5', input: 'Plan a trip',
        text: { format: { type: 'json_schema', name: 'trip', schema, strict: true } },
      });
      const parsed = res.output_parsed;
      assert.equal(typeof parsed.city, 'string');
      assert.ok(Number.isInteger(parsed.days));
      assert.ok(Array.isArray(parsed.tags));
      assert.deepEqual(Object.keys(parsed).sort(), ['city', 'days', 'tags']);
    });

    test('responses: previous_response_id is unknown -> BadRequestError naming the param', async () => {
      await assert.rejects(
        openai.responses.create({ model: 'gpt-5.5', input: 'x', previous_response_id: 'resp_nope' }),
        (err) => {
          assert.ok(err instanceof OpenAI.BadRequestError, `${err.constructor.name}: ${err.message}`);
          assert.equal(err.param, 'previous_response_id');
          assert.equal(err.error.message, "Previous response with id 'resp_nope' not found.");
          return true;
        });
    });

    test('responses: 429 fault -> RateLimitError; a cut stream rejects', async () => {
      await emulator.addFault(emu.url, { model: 'gpt-5.5', status: 429, count: 1, retry_after_s: 2 });
      await assert.rejects(openai.responses.create({ model: 'gpt-5.5', input: 'x' }),
        (err) => err instanceof OpenAI.RateLimitError && err.status === 429);
      await emulator.addFault(emu.url, { model: 'gpt-5.5', kind: 'reset', after_tokens: 3, count: 1 });
      await assert.rejects(openai.responses.stream({ model: 'gpt-5.5', input: 'Tell a story' }).finalResponse());
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

  // bad_output faults: a 200 answer the SDKs accept whose CONTENT fails a check (the gateway's
  // verification is tested end to end against these).
  describe('bad_output faults', () => {
    const REFUSAL = "I'm sorry, but I can't help with that request.";
    const UNGROUNDED = 'According to Dr. Elena Marchetti of the Halvorsen Institute, revenue grew 37.4% to '
      + '$812 million in 2019, with 14,250 new customers across 23 countries.';
    const trip = {
      type: 'object', properties: { city: { type: 'string' }, days: { type: 'integer' } },
      required: ['city', 'days'], additionalProperties: false,
    };
    const lookup = { type: 'object', properties: { q: { type: 'string' } }, required: ['q'] };
    const strike = (model, output, count = 1) =>
      emulator.addFault(emu.url, { model, kind: 'bad_output', output, count });
    const parses = (text) => {
      try {
        JSON.parse(text);
        return true;
      } catch {
        return false;
      }
    };

    test('control API: listed with their output; a bad output names the field', async () => {
      await strike('gpt-5.5', 'refusal', 2);
      const { faults } = await (await fetch(`${emu.url}/_emulator/faults`)).json();
      assert.equal(faults.length, 1);
      assert.equal(faults[0].kind, 'bad_output');
      assert.equal(faults[0].output, 'refusal');
      assert.equal(faults[0].count, 2);
      await assert.rejects(strike('gpt-5.5', 'nonsense'),
        /faults\[0\]\.output: must be invalid_json, schema_violation, empty, refusal or ungrounded/);
    });

    test('chat: refusal (JSON and the stream helper)', async () => {
      await strike('gpt-5.5', 'refusal', 2);
      const body = { model: 'gpt-5.5', messages: [{ role: 'user', content: 'x' }] };
      const res = await openai.chat.completions.create(body);
      assert.equal(res.choices[0].message.refusal, REFUSAL);
      assert.equal(res.choices[0].message.content, null);
      assert.equal(res.choices[0].finish_reason, 'stop');
      // gpt-5.5 reasons; the visible refusal is a token per word.
      assert.equal(res.usage.completion_tokens - res.usage.completion_tokens_details.reasoning_tokens, 9);
      const stream = openai.chat.completions.stream(body);
      let deltas = '';
      stream.on('refusal.delta', ({ delta }) => {
        deltas += delta;
      });
      const final = await stream.finalChatCompletion();
      assert.equal(final.choices[0].message.refusal, REFUSAL);
      assert.equal(deltas, REFUSAL);
      assert.equal(modelRequests(await emulator.requests(emu.url)).length, 2);
    });

    test('chat: structured output that does not parse, then one that breaks the schema', async () => {
      const response_format = { type: 'json_schema', json_schema: { name: 'trip', schema: trip, strict: true } };
      const messages = [{ role: 'user', content: 'Plan a trip' }];
      await strike('gpt-5.5', 'invalid_json');
      const cut = await openai.chat.completions.create({ model: 'gpt-5.5', messages, response_format });
      assert.equal(typeof cut.choices[0].message.content, 'string');
      assert.equal(parses(cut.choices[0].message.content), false, cut.choices[0].message.content);
      await strike('gpt-5.5', 'schema_violation');
      const parsed = await openai.chat.completions.parse({ model: 'gpt-5.5', messages, response_format });
      assert.equal(parsed.choices[0].message.parsed.city, undefined, 'the first required property is gone');
      assert.ok(Number.isInteger(parsed.choices[0].message.parsed.days));
    });

    test('chat: required tool call, streamed, with arguments that do not parse', async () => {
      await strike('gpt-5.5', 'invalid_json');
      const stream = openai.chat.completions.stream({
        model: 'gpt-5.5', messages: [{ role: 'user', content: 'Look it up' }],
        tools: [{ type: 'function', function: { name: 'lookup', parameters: lookup } }], tool_choice: 'required',
      });
      const final = await stream.finalChatCompletion();
      assert.equal(final.choices[0].finish_reason, 'tool_calls');
      const args = final.choices[0].message.tool_calls[0].function.arguments;
      assert.equal(parses(args), false, args);
    });

    test('responses: ungrounded (JSON), refusal (stream), empty', async () => {
      await strike('gpt-5.5', 'ungrounded');
      const res = await openai.responses.create({ model: 'gpt-5.5', input: 'Summarise the report' });
      assert.equal(res.status, 'completed');
      assert.equal(res.output_text, UNGROUNDED);

      await strike('gpt-5.5', 'refusal');
      const stream = openai.responses.stream({ model: 'gpt-5.5', input: 'x' });
      const types = [];
      stream.on('event', (event) => types.push(event.type));
      const final = await stream.finalResponse();
      assert.equal(final.output[0].content.length, 1);
      assert.equal(final.output[0].content[0].type, 'refusal');
      assert.equal(final.output[0].content[0].refusal, REFUSAL);
      assert.equal(final.output_text, '');
      assert.ok(types.includes('response.refusal.delta') && types.includes('response.refusal.done'), types.join());

      await strike('gpt-5.5', 'empty');
      const empty = await openai.responses.create({ model: 'gpt-5.5', input: 'x' });
      assert.equal(empty.output_text, '');
      assert.equal(empty.usage.output_tokens, 0);
    });

    test('anthropic: refusal (JSON and stream), empty', async () => {
      const body = { model: CLAUDE, max_tokens: 256, messages: [{ role: 'user', content: 'x' }] };
      await strike(CLAUDE, 'refusal', 2);
      const msg = await anthropic.messages.create(body);
      assert.equal(msg.stop_reason, 'refusal');
      assert.deepEqual(msg.content, [{ type: 'text', text: REFUSAL }]);
      assert.equal(msg.usage.output_tokens, 9);
      const streamed = await anthropic.messages.stream(body).finalMessage();
      assert.equal(streamed.stop_reason, 'refusal');
      assert.equal(streamed.content[0].text, REFUSAL);

      await strike(CLAUDE, 'empty');
      const empty = await anthropic.messages.create(body);
      assert.equal(empty.stop_reason, 'end_turn');
      assert.equal(empty.content[0].text, '');
      assert.equal(empty.usage.output_tokens, 0);
    });

    test('anthropic: forced tool with invalid_json (text in JSON, unparsable input_json_delta in SSE)', async () => {
      const body = {
        model: CLAUDE, max_tokens: 256, messages: [{ role: 'user', content: 'Look it up' }],
        tools: [{ name: 'lookup', input_schema: lookup }], tool_choice: { type: 'tool', name: 'lookup' },
      };
      await strike(CLAUDE, 'invalid_json', 2);
      const msg = await anthropic.messages.create(body);
      assert.equal(msg.stop_reason, 'end_turn');
      assert.equal(msg.content[0].type, 'text');
      assert.equal(parses(msg.content[0].text), false, msg.content[0].text);
      const stream = anthropic.messages.stream(body);
      let partial = '';
      stream.on('streamEvent', (event) => {
        if (event.type === 'content_block_delta' && event.delta.type === 'input_json_delta') {
          partial += event.delta.partial_json;
        }
      });
      const final = await stream.finalMessage();
      assert.equal(final.stop_reason, 'tool_use');
      assert.equal(partial, msg.content[0].text);
      assert.equal(parses(partial), false, partial);
    });

    test('anthropic: structured output that breaks the schema', async () => {
      await strike(CLAUDE, 'schema_violation');
      const msg = await anthropic.messages.create({
        model: CLAUDE, max_tokens: 256, messages: [{ role: 'user', content: 'Plan a trip' }],
        output_config: { format: jsonSchemaOutputFormat(trip) },
      });
      const answer = JSON.parse(msg.content[0].text);
      assert.equal(answer.city, undefined);
      assert.ok(Number.isInteger(answer.days));
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

    test('messages.countTokens', async () => {
      const body = { model: CLAUDE, system: 'Be brief', messages: [{ role: 'user', content: 'Hello' }] };
      const count = await anthropic.messages.countTokens(body);
      // system: 3 + 2 tokens, user: 3 + 2 tokens (prompt_tokens.h).
      assert.deepEqual(count, { input_tokens: 10 });
      const msg = await anthropic.messages.create({ ...body, max_tokens: 64 });
      assert.equal(msg.usage.input_tokens, count.input_tokens);
      await assert.rejects(anthropic.messages.countTokens({ model: CLAUDE, messages: [{ role: 'bot', content: 'x' }] }),
        (err) => err instanceof Anthropic.BadRequestError && err.error?.error?.type === 'invalid_request_error');
    });

    test('messages.parse with output_config.format (json schema)', async () => {
      const schema = {
        type: 'object',
        properties: { city: { type: 'string' }, days: { type: 'integer' } },
        required: ['city', 'days'], additionalProperties: false,
      };
      const msg = await anthropic.messages.parse({
        model: CLAUDE, max_tokens: 256, messages: [{ role: 'user', content: 'Plan a trip' }],
        output_config: { format: jsonSchemaOutputFormat(schema) },
      });
      assert.equal(msg.stop_reason, 'end_turn');
      assert.equal(typeof msg.parsed_output.city, 'string');
      assert.ok(Number.isInteger(msg.parsed_output.days));
      const [seen] = await emulator.requests(emu.url);
      assert.equal(seen.body.output_config.format.type, 'json_schema');
      await assert.rejects(anthropic.messages.create({
        model: CLAUDE, max_tokens: 16, messages: [{ role: 'user', content: 'x' }],
        output_config: { format: { type: 'json_object' } },
      }), (err) => err instanceof Anthropic.BadRequestError);
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
