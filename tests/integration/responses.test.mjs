// POST /v1/responses over raw HTTP through the demo (its emulator behind it): bad input is an
// OpenAI-shaped error naming the parameter, with a ledger row of dialect "responses" and no
// upstream call; the typed SSE events of a text answer and of a tool call, in order; stored
// responses (previous_response_id expands to the whole conversation upstream, GET, DELETE,
// store:false); and the explain endpoint reading a Responses body.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';

import {
  DECIMAL_RE, assertOpenAIError, emulator, getJson, ledgerRows, modelRequests, postJson,
  shareDemo, shareServe, streamChat, testCleanShutdown, testConfigYaml,
} from '../testutil/harness.mjs';

// One model per upstream wire: Chat Completions, Anthropic Messages, Responses (native).
const MODELS = [
  { model: 'gpt-5.5', upstreamPath: /\/v1\/chat\/completions$/ },
  { model: 'claude-haiku-4.5', upstreamPath: /\/v1\/messages$/ },
  { model: 'gpt-5.5-pro', upstreamPath: /\/v1\/responses$/ },
];

const WEATHER_TOOL = {
  type: 'function', name: 'get_weather', description: 'Current weather for a city',
  parameters: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] },
};

const respond = (url, body, opts) => postJson(`${url}/v1/responses`, body, opts);
const streamRespond = (url, body, opts = {}) =>
  streamChat(url, { ...body, stream: true }, { ...opts, path: '/v1/responses' });
const requestIdOf = (res) => res.headers.get('x-switchyard-request-id');

async function deleteResponse(url, id) {
  const res = await fetch(`${url}/v1/responses/${id}`, { method: 'DELETE' });
  const text = await res.text();
  let json;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  return { status: res.status, headers: res.headers, text, json };
}

// Event names in order, runs of the same delta event collapsed into one.
function eventNames(events) {
  const names = [];
  for (const e of events) {
    if (/\.delta$/.test(e.event) && names.at(-1) === e.event) continue;
    names.push(e.event);
  }
  return names;
}

// Every SSE event of a Responses stream: the event name equals the data's type, and the
// sequence numbers count 0..n-1.
function assertTypedEvents(events) {
  assert.ok(events.length > 0);
  events.forEach((e, i) => {
    assert.ok(e.json, `event ${i} is JSON: ${e.data}`);
    assert.equal(e.json.type, e.event, `event ${i}: name and type agree`);
    assert.equal(e.json.sequence_number, i, `event ${i} (${e.event}): sequence_number`);
  });
}

describe('/v1/responses through the demo', () => {
  let demo;
  shareDemo(async (d) => {
    demo = d;
  });

  const upstreamCalls = async () => modelRequests(await emulator.requests(demo.emulatorUrl));

  // Status, OpenAI error shape naming `param`, one ledger row of dialect "responses", and nothing
  // sent upstream.
  async function expectError(res, status, param) {
    assert.equal(res.status, status, `status; body: ${res.text}`);
    assertOpenAIError(assert, res.json, { status, param });
    const id = requestIdOf(res);
    assert.ok(id, 'error answers carry x-switchyard-request-id');
    const rows = await ledgerRows(demo.dbPath, [id]);
    assert.equal(rows.length, 1, `one ledger row for ${id}`);
    assert.equal(rows[0].dialect, 'responses');
    assert.equal(rows[0].status, status);
    assert.notEqual(rows[0].error_code ?? '', '', 'ledger error_code');
    assert.equal(rows[0].cost_pico, 0);
    assert.deepEqual(await upstreamCalls(), [], 'nothing was sent upstream');
    return res.json.error;
  }

  test('bad input: input a number -> 400 param input', async () => {
    await expectError(await respond(demo.url, { model: 'gpt-5.5', input: 42 }), 400, 'input');
  });

  test('bad input: an unknown item type -> 400 naming the item', async () => {
    const res = await respond(demo.url, { model: 'gpt-5.5',
      input: [{ role: 'user', content: 'hi' }, { type: 'hologram', content: 'x' }] });
    await expectError(res, 400, 'input[1].type');
  });

  test('bad input: a function_call_output whose call_id matches no call -> 400', async () => {
    const res = await respond(demo.url, { model: 'gpt-5.5', input: [
      { role: 'user', content: 'Weather in Oslo?' },
      { type: 'function_call_output', call_id: 'call_nowhere', output: '{"temp_c": 3}' },
    ] });
    const error = await expectError(res, 400, 'input[1].call_id');
    assert.match(error.message, /call_nowhere/);
  });

  test('bad input: an unknown previous_response_id -> 404 naming previous_response_id', async () => {
    const res = await respond(demo.url, { model: 'gpt-5.5', input: 'Go on',
      previous_response_id: 'resp_doesnotexist0000000000000000' });
    const error = await expectError(res, 404, 'previous_response_id');
    assert.match(error.message, /resp_doesnotexist/);
  });

  test('bad input: text.format json_schema whose schema is not an object schema -> 400', async () => {
    const res = await respond(demo.url, { model: 'gpt-5.5', input: 'List colours',
      text: { format: { type: 'json_schema', name: 'colours', strict: true,
        schema: { type: 'array', items: { type: 'string' } } } } });
    await expectError(res, 400, 'text.format.schema');
  });

  test('a successful answer leaves a ledger row of dialect responses with its cost', async () => {
    const res = await respond(demo.url, { model: 'gpt-5.5', input: 'Say hello' });
    assert.equal(res.status, 200, res.text);
    const [row] = await ledgerRows(demo.dbPath, [requestIdOf(res)]);
    assert.equal(row.dialect, 'responses');
    assert.equal(row.status, 200);
    assert.ok(row.cost_pico > 0);
    assert.match(res.headers.get('x-switchyard-cost-usd') ?? '', DECIMAL_RE);
  });

  for (const { model } of MODELS) {
    test(`stream of a text answer from ${model}: the events in order`, async () => {
      const s = await streamRespond(demo.url, { model, input: 'Tell me about trains' });
      assert.equal(s.status, 200, s.raw);
      assert.match(s.headers['content-type'] ?? '', /text\/event-stream/);
      assertTypedEvents(s.events);
      assert.deepEqual(eventNames(s.events), [
        'response.created', 'response.in_progress', 'response.output_item.added',
        'response.content_part.added', 'response.output_text.delta', 'response.output_text.done',
        'response.content_part.done', 'response.output_item.done', 'response.completed',
      ], s.raw);
      const deltas = s.events.filter((e) => e.event === 'response.output_text.delta')
        .map((e) => e.json.delta).join('');
      const done = s.events.find((e) => e.event === 'response.output_text.done').json;
      assert.equal(done.text, deltas);
      const completed = s.events.at(-1).json.response;
      assert.equal(completed.status, 'completed');
      assert.equal(completed.id, s.events[0].json.response.id);
      assert.equal(completed.output[0].content[0].text, deltas);
      assert.match(completed.usage.cost_usd ?? '', DECIMAL_RE, JSON.stringify(completed.usage));
      const added = s.events[2].json;
      assert.equal(added.item.type, 'message');
      assert.equal(added.item.status, 'in_progress');
      assert.deepEqual(added.item.content, []);
    });

    test(`stream of a tool call from ${model}: the events in order`, async () => {
      const s = await streamRespond(demo.url, { model, input: 'Weather in Oslo?',
        tools: [WEATHER_TOOL], tool_choice: 'required' });
      assert.equal(s.status, 200, s.raw);
      assertTypedEvents(s.events);
      assert.deepEqual(eventNames(s.events), [
        'response.created', 'response.in_progress', 'response.output_item.added',
        'response.function_call_arguments.delta', 'response.function_call_arguments.done',
        'response.output_item.done', 'response.completed',
      ], s.raw);
      const added = s.events[2].json.item;
      assert.equal(added.type, 'function_call');
      assert.equal(added.name, 'get_weather');
      assert.equal(added.arguments, '');
      const args = s.events.filter((e) => e.event === 'response.function_call_arguments.delta')
        .map((e) => e.json.delta).join('');
      assert.equal(s.events.find((e) => e.event === 'response.function_call_arguments.done').json.arguments,
        args);
      assert.equal(typeof JSON.parse(args).city, 'string');
      const item = s.events.at(-1).json.response.output[0];
      assert.equal(item.type, 'function_call');
      assert.equal(item.call_id, added.call_id);
      assert.equal(item.arguments, args);
    });

    test(`5 turns by previous_response_id to ${model}: the upstream gets the whole conversation`,
      async () => {
        let previous;
        const ids = [];
        for (let turn = 1; turn <= 5; ++turn) {
          const res = await respond(demo.url, { model, input: `Turn ${turn}: tell me more.`,
            instructions: 'Be brief.', previous_response_id: previous });
          assert.equal(res.status, 200, `turn ${turn}: ${res.text}`);
          assert.equal(res.json.previous_response_id ?? undefined, previous);
          previous = res.json.id;
          ids.push(requestIdOf(res));
        }
        const calls = (await upstreamCalls()).filter((c) => c.path.match(
          MODELS.find((m) => m.model === model).upstreamPath));
        assert.equal(calls.length, 5);
        // Each turn's request carries every earlier user input and answer: 2n-1 user/assistant
        // messages for turn n.
        calls.forEach((call, i) => {
          // A passed-through first turn keeps the client's string input.
          const sent = call.body.messages ?? call.body.input;
          const items = typeof sent === 'string' ? [{ role: 'user', content: sent }] : sent;
          const turns = items.filter((m) => (m.type === undefined || m.type === 'message') &&
            (m.role === 'user' || m.role === 'assistant'));
          assert.equal(turns.length, 2 * i + 1, `turn ${i + 1}: ${JSON.stringify(items)}`);
          assert.equal(JSON.stringify(call.body).split('Be brief.').length - 1, 1,
            `turn ${i + 1}: the instructions once`);
          assert.equal(call.body.previous_response_id, undefined);
        });
        const rows = await ledgerRows(demo.dbPath, ids);
        assert.equal(rows.length, 5);
        assert.ok(rows.every((r) => r.dialect === 'responses' && r.status === 200));
      });
  }

  test('a Responses upstream echoing a tool schema nested past 32 levels: one call, billed',
    async () => {
      // 14 levels of properties: the body nests 32 levels (within max_json_depth), the events
      // that echo the tools 33. They were refused as malformed after the upstream had answered
      // (and billed): no usage recorded, the call retried, the client given a 502.
      let schema = { type: 'string' };
      for (let i = 0; i < 14; ++i) schema = { type: 'object', properties: { a: schema } };
      const s = await streamRespond(demo.url, { model: 'gpt-5.5-pro', input: 'Say hello',
        tools: [{ type: 'function', name: 'deep', parameters: schema }] });
      assert.equal(s.status, 200, s.raw);
      assertTypedEvents(s.events);
      const last = s.events.at(-1);
      assert.equal(last.event, 'response.completed', s.raw);
      assert.deepEqual(last.json.response.tools[0].parameters, schema);
      assert.match(last.json.response.usage.cost_usd ?? '', DECIMAL_RE);
      const calls = (await upstreamCalls()).filter((c) => c.path.match(/\/v1\/responses$/));
      assert.equal(calls.length, 1);
      const [row] = await ledgerRows(demo.dbPath, [s.headers['x-switchyard-request-id']]);
      assert.equal(row.status, 200);
      assert.equal(row.usage_estimated, 0);
      assert.ok(row.cost_pico > 0);
    });

  for (const model of ['gpt-5.5', 'claude-haiku-4.5']) {
    test(`max_output_tokens cuts ${model}: incomplete, JSON and stream`, async () => {
      const body = { model, input: 'Tell me a long story about trains', max_output_tokens: 16 };
      const res = await respond(demo.url, body);
      assert.equal(res.status, 200, res.text);
      assert.equal(res.json.status, 'incomplete', res.text);
      assert.deepEqual(res.json.incomplete_details, { reason: 'max_output_tokens' });
      const s = await streamRespond(demo.url, body);
      assertTypedEvents(s.events);
      const last = s.events.at(-1);
      assert.equal(last.event, 'response.incomplete', s.raw);
      assert.deepEqual(last.json.response.incomplete_details, { reason: 'max_output_tokens' });
      assert.ok(!s.events.some((e) => e.event === 'response.completed'));
    });
  }

  test('previous_response_id naming a deleted response -> 404', async () => {
    const created = await respond(demo.url, { model: 'gpt-5.5', input: 'Remember this' });
    assert.equal(created.status, 200, created.text);
    assert.equal((await deleteResponse(demo.url, created.json.id)).status, 200);
    await emulator.clearRequests(demo.emulatorUrl);
    const next = await respond(demo.url, { model: 'gpt-5.5', input: 'Go on',
      previous_response_id: created.json.id });
    await expectError(next, 404, 'previous_response_id');
  });

  test('GET of a stored response; after DELETE it is a 404', async () => {
    const created = await respond(demo.url, { model: 'gpt-5.5', input: 'Remember this' });
    assert.equal(created.status, 200, created.text);
    const { id } = created.json;
    const got = await getJson(`${demo.url}/v1/responses/${id}`);
    assert.equal(got.status, 200, got.text);
    assert.deepEqual(got.json, created.json);

    const del = await deleteResponse(demo.url, id);
    assert.equal(del.status, 200, del.text);
    assert.deepEqual(del.json, { id, object: 'response', deleted: true });
    const gone = await getJson(`${demo.url}/v1/responses/${id}`);
    assert.equal(gone.status, 404, gone.text);
    assertOpenAIError(assert, gone.json, { status: 404 });
    const again = await deleteResponse(demo.url, id);
    assert.equal(again.status, 404, again.text);
    assertOpenAIError(assert, again.json, { status: 404 });
    const unknown = await getJson(`${demo.url}/v1/responses/resp_unknown000000000000000000`);
    assert.equal(unknown.status, 404, unknown.text);
    assertOpenAIError(assert, unknown.json, { status: 404 });
  });

  test('store: false is not kept: GET and previous_response_id to it are 404', async () => {
    const created = await respond(demo.url, { model: 'gpt-5.5', input: 'Forget this', store: false });
    assert.equal(created.status, 200, created.text);
    assert.equal(created.json.store, false);
    const got = await getJson(`${demo.url}/v1/responses/${created.json.id}`);
    assert.equal(got.status, 404, got.text);
    await emulator.clearRequests(demo.emulatorUrl);
    const next = await respond(demo.url, { model: 'gpt-5.5', input: 'Go on',
      previous_response_id: created.json.id });
    await expectError(next, 404, 'previous_response_id');
  });

  test('/v1/route/explain?dialect=responses reads a Responses body', async () => {
    const url = `${demo.url}/v1/route/explain?dialect=responses`;
    const ex = await postJson(url, { model: 'auto',
      input: [{ role: 'user', content: "When did the Thirty Years' War end, and which treaty ended it?" }] });
    assert.equal(ex.status, 200, ex.text);
    assert.equal(ex.json.profile, 'auto');
    assert.equal(ex.json.rule, 'facts');
    assert.equal(ex.json.task_type, 'factual');
    assert.ok(ex.json.candidates.length > 0);
    const bad = await postJson(url, { model: 'auto', input: 42 });
    assert.equal(bad.status, 400, bad.text);
    assertOpenAIError(assert, bad.json, { status: 400, param: 'input' });
    assert.deepEqual(await upstreamCalls(), [], 'explain calls no upstream');
  });

  testCleanShutdown(() => demo);
});

// What one key stores is bounded (responses.max_stored_bytes_per_key, here its least, 1 MiB): the
// response that reaches the bound is the last stored; the next answer is served unstored, and
// after it a request with store is a 400 naming store, until a delete makes room.
describe('/v1/responses: a key stores up to its bound', () => {
  let served;
  shareServe((o) => `${testConfigYaml(o)}auth: {mode: "off"}
responses: {max_stored_bytes_per_key: 1048576}
`, (s) => {
    served = s;
  });

  test('past 1 MiB of stored responses: served unstored, then refused until a delete', async () => {
    const big = 'x'.repeat(400 * 1024);  // each stored turn keeps its input: ~400 KiB
    const ids = [];
    for (let i = 0; i < 3; ++i) {
      const res = await respond(served.url, { model: 'gpt-5.5', input: `${i} ${big}` });
      assert.equal(res.status, 200, res.text);
      ids.push(res.json.id);
      assert.equal((await getJson(`${served.url}/v1/responses/${res.json.id}`)).status, 200);
    }
    const unstored = await respond(served.url, { model: 'gpt-5.5', input: 'one more' });
    assert.equal(unstored.status, 200, unstored.text);
    assert.equal((await getJson(`${served.url}/v1/responses/${unstored.json.id}`)).status, 404);
    const refused = await respond(served.url, { model: 'gpt-5.5', input: 'and another' });
    assert.equal(refused.status, 400, refused.text);
    assertOpenAIError(assert, refused.json, { status: 400, param: 'store' });
    assert.match(refused.json.error.message, /max_stored_bytes_per_key/);
    const unkept = await respond(served.url, { model: 'gpt-5.5', input: 'not kept', store: false });
    assert.equal(unkept.status, 200, unkept.text);

    assert.equal((await deleteResponse(served.url, ids[0])).status, 200);
    const after = await respond(served.url, { model: 'gpt-5.5', input: 'room again' });
    assert.equal(after.status, 200, after.text);
    assert.equal((await getJson(`${served.url}/v1/responses/${after.json.id}`)).status, 200);
  });

  testCleanShutdown(() => served);
});
