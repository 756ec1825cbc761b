// Verification and escalation end to end (issue 18): a rule's `verify` checks each answer; one
// that fails is never returned and the next model of the chain is tried; the emulator's
// `bad_output` faults make a model answer well-formed wire output whose content fails a check.
// One gateway (`serve`, this file's config) in front of one emulator for the whole file.
//
// What is pinned, per docs in briefs/spec18.md: the x-switchyard-verify response header, the
// ledger's attempts (outcome "rejected" and its verdict, usage and cost kept for every attempt),
// x-switchyard-cost-usd = the sum of every attempt's cost, the 502 in each dialect when every
// candidate fails, return_last, held streams (nothing of a rejected answer reaches the client),
// record mode (streamed at once, verdict only recorded), the request header's 400s, and no change
// without verification.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';

import {
  assertOpenAIError, chat, emulator, ledgerRows, messages, modelRequests,
  postJson, shareServe, sqlite, streamChat, streamedText, streamMessages, testCleanShutdown,
  usdToPico, DEFAULT_KEY_ENV,
} from '../testutil/harness.mjs';

// ---------------------------------------------------------------------------------------------
// The suite's config: three models on three providers (two OpenAI-compatible, one Anthropic),
// all the emulator; rules picked by tags so each test chooses its checks.

function verifyConfig({ emulatorUrl, dbPath }) {
  const provider = (kind) => `    kind: ${kind}
    base_url: "${emulatorUrl}/v1"
    api_key_env: ${DEFAULT_KEY_ENV}`;
  return `server:
  listen: "127.0.0.1:0"
  threads: 2
providers:
  budget-host:
${provider('openai')}
  middle-host:
${provider('anthropic')}
  frontier-host:
${provider('openai')}
models:
  cheap:
    provider: budget-host
    capabilities: [json_schema]
    tier: economy
    price: {input: "0.10", output: "0.40"}
  middle:
    provider: middle-host
    capabilities: [json_schema]
    price: {input: "1.00", output: "4.00"}
  strong:
    provider: frontier-host
    capabilities: [json_schema]
    tier: frontier
    price: {input: "5.00", output: "30.00"}
aliases:
  ladder: [cheap, strong]
routing:
  trust_task_header: true
  profiles:
    auto:
      rules:
        - name: record
          when: {tags: [record]}
          chain: [cheap, strong]
          verify: [grounded]
          verify_mode: record
        - name: non-empty
          when: {tags: [non-empty]}
          chain: [cheap, strong]
          verify: [non_empty]
        - name: no-refusal
          when: {tags: [no-refusal]}
          chain: [cheap, strong]
          verify: [no_refusal]
        - name: json
          when: {tags: [json]}
          chain: [cheap, strong]
          verify: [json]
        - name: return-last
          when: {tags: [return-last], json_output: true}
          chain: [cheap, middle, strong]
          verify: [json_schema]
          on_exhausted: return_last
        - name: structured
          when: {json_output: true}
          chain: [cheap, strong]
          verify: [json_schema]
          on_exhausted: error
        - name: grounded
          when: {task: [grounded_qa]}
          chain: [cheap, strong]
          verify: [grounded]
        - name: default
          chain: [cheap, strong]
failover:
  max_attempts: 4
ledger:
  sqlite_path: ${JSON.stringify(dbPath)}
  flush_interval_ms: 20
`;
}

const MODELS = ['cheap', 'middle', 'strong'];
const FAST = { ttft_ms: 1, tokens_per_s: 0 };
// Slow enough that a relayed stream's first chunk arrives long before its end.
const SLOW = { ttft_ms: 10, tokens_per_s: 20 };

// ---------------------------------------------------------------------------------------------
// Requests

const FILM = 'Describe the film Metropolis as JSON: title, year, rating, availability and genres.';

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

const user = (text) => [{ role: 'user', content: text }];

const chatSchemaBody = (extra = {}) => ({
  model: 'auto',
  messages: user(FILM),
  response_format: { type: 'json_schema', json_schema: { name: 'film', strict: true, schema: SCHEMA } },
  ...extra,
});

const messagesSchemaBody = (extra = {}) => ({
  model: 'auto',
  max_tokens: 400,
  messages: user(FILM),
  output_config: { format: { type: 'json_schema', schema: SCHEMA } },
  ...extra,
});

// A pasted document and a question about it: the grounded check compares the answer's figures
// and names with this passage.
const PASSAGE = `Northwind Ferries annual report, 2023 (excerpt).

Northwind Ferries operates four routes across the Baltic. In 2023 the company carried 1.2 million
passengers, 6% more than in 2022. Revenue rose from EUR 84 million to EUR 91 million. The new
hybrid vessel Aurora entered service on the Tallinn route in May; fuel use per crossing on that
route fell by 18%. The board proposes a dividend of EUR 0.40 per share.`;

const GROUNDED_PROMPT = `Answer using only the document below.

<document>
${PASSAGE}
</document>

Question: how did Northwind Ferries' revenue change in 2023, and why did fuel use fall?`;

// The text the emulator's `ungrounded` bad_output answers with (briefs/emulator.md).
const UNGROUNDED_MARK = 'Elena Marchetti';

// ---------------------------------------------------------------------------------------------
// Reading answers

// A header from a fetch Response (Headers) or a streamChat result (plain object).
function header(res, name) {
  if (typeof res.headers.get === 'function') return res.headers.get(name);
  return res.headers[name] ?? null;
}

const chatText = (json) => json.choices[0].message.content ?? '';
const anthropicText = (json) =>
  json.content.filter((b) => b.type === 'text').map((b) => b.text).join('');
const responsesText = (json) => json.output
  .filter((item) => item.type === 'message')
  .flatMap((item) => item.content)
  .filter((part) => part.type === 'output_text')
  .map((part) => part.text)
  .join('');
const anthropicStreamText = (events) => events
  .filter((e) => e.json?.type === 'content_block_delta' && e.json.delta?.type === 'text_delta')
  .map((e) => e.json.delta.text)
  .join('');
// Stream events that carry content text, in arrival order (Chat or Anthropic).
const contentEvents = (events) => events.filter((e) => e.json?.choices?.[0]?.delta?.content
  || e.json?.choices?.[0]?.delta?.refusal || e.json?.delta?.text);

// Whether `value` satisfies SCHEMA: exactly its keys, each of its type.
function conformsToSchema(value) {
  if (!value || typeof value !== 'object' || Array.isArray(value)) return false;
  const keys = Object.keys(value).sort();
  if (JSON.stringify(keys) !== JSON.stringify([...SCHEMA.required].sort())) return false;
  return typeof value.title === 'string' && Number.isInteger(value.year)
    && typeof value.rating === 'number' && typeof value.available === 'boolean'
    && Array.isArray(value.genres) && value.genres.every((g) => typeof g === 'string');
}

function assertConforms(text, context) {
  let value;
  assert.doesNotThrow(() => {
    value = JSON.parse(text);
  }, `${context}: the answer is JSON: ${text}`);
  assert.ok(conformsToSchema(value), `${context}: the answer matches the schema: ${text}`);
}

// The Anthropic error shape; returns its message.
function assertAnthropicError(json, type) {
  assert.equal(json?.type, 'error', JSON.stringify(json));
  assert.equal(json.error?.type, type, JSON.stringify(json));
  assert.equal(typeof json.error.message, 'string');
  return json.error.message;
}

// ---------------------------------------------------------------------------------------------
// The ledger

async function requestRow(dbPath, id) {
  const [row] = await ledgerRows(dbPath, [id]);
  assert.ok(row, `a ledger row for ${id}`);
  return row;
}

async function attemptRows(dbPath, id) {
  await requestRow(dbPath, id);
  return sqlite(dbPath, `SELECT idx, model, provider, deployment, outcome, verdict, http_status,
    input_tokens, output_tokens, cost_pico, cost_usd FROM attempts
    WHERE request_id = '${id}' ORDER BY idx`);
}

const sumPico = (attempts) => attempts.reduce((a, r) => a + usdToPico(r.cost_usd), 0n);

// Every attempt billed what it used: usage > 0 (an empty answer may have no output tokens) and
// its exact cost in both columns.
function assertBilled(attempts) {
  for (const a of attempts) {
    assert.ok(a.input_tokens > 0, `input usage of ${JSON.stringify(a)}`);
    if (!a.verdict.startsWith('rejected: non_empty')) {
      assert.ok(a.output_tokens > 0, `output usage of ${JSON.stringify(a)}`);
    }
    assert.ok(usdToPico(a.cost_usd) > 0n, `cost of ${JSON.stringify(a)}`);
    assert.equal(BigInt(a.cost_pico), usdToPico(a.cost_usd), JSON.stringify(a));
  }
}

// ---------------------------------------------------------------------------------------------

describe('verification and escalation', () => {
  let s;
  shareServe(verifyConfig, async (served) => {
    s = served;
    for (const model of MODELS) await emulator.setProfile(s.emulatorUrl, model, FAST);
  });

  const upstreamModels = async () =>
    modelRequests(await emulator.requests(s.emulatorUrl)).map((r) => r.body?.model);
  const badOutput = (model, output, count = 1) =>
    emulator.addFault(s.emulatorUrl, { model, kind: 'bad_output', output, count });

  // The answer came from `strong` on its second attempt after `cheap`'s answer failed `check`;
  // the ledger holds both attempts and the cost is their sum. `cost` is the answer's cost header
  // (or trailer); `text` its content.
  async function expectEscalated(res, { check, cost, text, verifyHeader }) {
    const id = header(res, 'x-switchyard-request-id');
    assert.equal(header(res, 'x-switchyard-model'), 'strong');
    assert.equal(header(res, 'x-switchyard-provider'), 'frontier-host');
    assert.equal(header(res, 'x-switchyard-attempts'), '2');
    const verify = verifyHeader ?? `checks=${check}; result=passed; attempt=2`;
    assert.equal(header(res, 'x-switchyard-verify'), verify);
    assert.deepEqual(await upstreamModels(), ['cheap', 'strong']);
    assert.ok(!text.includes(UNGROUNDED_MARK), `no piece of the rejected answer: ${text}`);

    const attempts = await attemptRows(s.dbPath, id);
    assert.deepEqual(attempts.map((a) => [a.model, a.provider, a.deployment, a.outcome]),
      [['cheap', 'budget-host', 'budget-host', 'rejected'],
        ['strong', 'frontier-host', 'frontier-host', 'ok']]);
    assert.ok(attempts[0].verdict.startsWith(`rejected: ${check}`), attempts[0].verdict);
    assert.equal(attempts[1].verdict, 'passed');
    assertBilled(attempts);
    assert.equal(usdToPico(cost), sumPico(attempts), `cost ${cost} = the sum of both attempts`);

    const row = await requestRow(s.dbPath, id);
    assert.equal(row.status, 200);
    assert.equal(row.chosen_model, 'strong');
    assert.equal(row.provider, 'frontier-host');
    assert.equal(row.attempts_count, 2);
    assert.equal(BigInt(row.cost_pico), sumPico(attempts));
    assert.equal(row.verify, verify);
    return attempts;
  }

  // --- 1. a schema violation escalates, every dialect -----------------------------------------

  test('json_schema: cheap violates the schema -> strong answers, Chat JSON', async () => {
    await badOutput('cheap', 'schema_violation');
    const res = await chat(s.url, chatSchemaBody());
    assert.equal(res.status, 200, res.text);
    assert.match(header(res, 'x-switchyard-route') ?? '', /rule=structured/);
    assert.equal(res.json.model, 'strong');
    assertConforms(chatText(res.json), 'Chat');
    await expectEscalated(res, { check: 'json_schema', cost: header(res, 'x-switchyard-cost-usd'),
      text: chatText(res.json) });
  });

  test('json_schema: the same through Anthropic Messages JSON', async () => {
    await badOutput('cheap', 'schema_violation');
    const res = await messages(s.url, messagesSchemaBody());
    assert.equal(res.status, 200, res.text);
    assert.equal(res.json.type, 'message');
    assert.equal(res.json.model, 'strong');
    assertConforms(anthropicText(res.json), 'Messages');
    await expectEscalated(res, { check: 'json_schema', cost: header(res, 'x-switchyard-cost-usd'),
      text: anthropicText(res.json) });
  });

  test('json_schema: the same through Responses JSON', async () => {
    await badOutput('cheap', 'schema_violation');
    const res = await postJson(`${s.url}/v1/responses`, {
      model: 'auto',
      input: FILM,
      store: false,
      text: { format: { type: 'json_schema', name: 'film', strict: true, schema: SCHEMA } },
    });
    assert.equal(res.status, 200, res.text);
    assert.equal(res.json.object, 'response');
    assert.equal(res.json.status, 'completed');
    assertConforms(responsesText(res.json), 'Responses');
    await expectEscalated(res, { check: 'json_schema', cost: header(res, 'x-switchyard-cost-usd'),
      text: responsesText(res.json) });
  });

  test('json_schema, held Chat stream: only the strong answer reaches the client', async () => {
    await badOutput('cheap', 'schema_violation');
    const res = await streamChat(s.url,
      chatSchemaBody({ stream: true, stream_options: { include_usage: true } }));
    assert.equal(res.status, 200, res.raw);
    assert.equal(res.events.at(-1).data, '[DONE]', res.raw);
    assert.ok(!res.events.some((e) => e.json?.error), res.raw);
    for (const e of res.events.filter((x) => x.json?.model)) {
      assert.equal(e.json.model, 'strong', `a chunk of another model: ${e.data}`);
    }
    const text = streamedText(res.events);
    assertConforms(text, 'Chat stream');
    const cost = res.trailers['x-switchyard-cost-usd'];
    assert.ok(cost, `cost trailer: ${JSON.stringify(res.trailers)}`);
    await expectEscalated(res, { check: 'json_schema', cost, text });
  });

  test('json_schema, held Messages stream: only the strong answer reaches the client', async () => {
    await badOutput('cheap', 'schema_violation');
    const res = await streamMessages(s.url, messagesSchemaBody({ stream: true }));
    assert.equal(res.status, 200, res.raw);
    const start = res.events.find((e) => e.json?.type === 'message_start');
    assert.equal(start?.json.message.model, 'strong', res.raw);
    assert.equal(res.events.filter((e) => e.json?.type === 'message_start').length, 1, res.raw);
    assert.equal(res.events.at(-1).json?.type, 'message_stop', res.raw);
    const text = anthropicStreamText(res.events);
    assertConforms(text, 'Messages stream');
    const cost = res.trailers['x-switchyard-cost-usd'];
    assert.ok(cost, `cost trailer: ${JSON.stringify(res.trailers)}`);
    await expectEscalated(res, { check: 'json_schema', cost, text });
  });

  // --- 2. every step fails ----------------------------------------------------------------------

  // Every attempt rejected, each billed, the request's cost their sum.
  async function expectAllRejected(id, models, status) {
    const attempts = await attemptRows(s.dbPath, id);
    assert.deepEqual(attempts.map((a) => [a.model, a.outcome]), models.map((m) => [m, 'rejected']));
    for (const a of attempts) assert.ok(a.verdict.startsWith('rejected: json_schema'), a.verdict);
    assertBilled(attempts);
    const row = await requestRow(s.dbPath, id);
    assert.equal(row.status, status);
    assert.equal(row.attempts_count, models.length);
    assert.equal(BigInt(row.cost_pico), sumPico(attempts));
    return { attempts, row };
  }

  test('on_exhausted error: every answer violates the schema -> 502 in each dialect', async () => {
    for (const model of ['cheap', 'strong']) await badOutput(model, 'schema_violation', 2);

    const oa = await chat(s.url, chatSchemaBody());
    assert.equal(oa.status, 502, oa.text);
    assertOpenAIError(assert, oa.json, { status: 502, type: 'upstream_error' });
    assert.equal(oa.json.error.code, 'verification_failed');
    assert.match(oa.json.error.message, /every candidate failed verification; last: json_schema: /);
    assert.equal(header(oa, 'x-switchyard-attempts'), '2');
    await expectAllRejected(header(oa, 'x-switchyard-request-id'), ['cheap', 'strong'], 502);

    const an = await messages(s.url, messagesSchemaBody());
    assert.equal(an.status, 502, an.text);
    const message = assertAnthropicError(an.json, 'api_error');
    assert.match(message, /every candidate failed verification; last: json_schema: /);
    await expectAllRejected(header(an, 'x-switchyard-request-id'), ['cheap', 'strong'], 502);
    assert.deepEqual(await upstreamModels(), ['cheap', 'strong', 'cheap', 'strong']);
  });

  test('on_exhausted return_last: every answer violates the schema -> 200 with the last', async () => {
    for (const model of MODELS) await badOutput(model, 'schema_violation');
    const res = await chat(s.url, chatSchemaBody(), { headers: { 'x-switchyard-tags': 'return-last' } });
    assert.equal(res.status, 200, res.text);
    assert.match(header(res, 'x-switchyard-route') ?? '', /rule=return-last/);
    const verify = 'checks=json_schema; result=failed; failed=json_schema; attempt=3; returned=last';
    assert.equal(header(res, 'x-switchyard-verify'), verify);
    assert.equal(header(res, 'x-switchyard-model'), 'strong');
    assert.equal(header(res, 'x-switchyard-attempts'), '3');
    const text = chatText(res.json);
    assert.ok(!conformsToSchema(JSON.parse(text)), `the last (violating) answer: ${text}`);
    assert.deepEqual(await upstreamModels(), ['cheap', 'middle', 'strong']);
    const { attempts, row } = await expectAllRejected(header(res, 'x-switchyard-request-id'),
      ['cheap', 'middle', 'strong'], 200);
    assert.equal(attempts[1].provider, 'middle-host');
    assert.equal(row.chosen_model, 'strong');
    assert.equal(row.verify, verify);
    assert.equal(usdToPico(header(res, 'x-switchyard-cost-usd')), sumPico(attempts));
  });

  // --- 3. grounded ------------------------------------------------------------------------------

  test('grounded: an ungrounded answer escalates; a normal one passes', async () => {
    const body = { model: 'auto', messages: user(GROUNDED_PROMPT) };
    const headers = { 'x-switchyard-task': 'grounded_qa' };
    await badOutput('cheap', 'ungrounded');
    const bad = await chat(s.url, body, { headers });
    assert.equal(bad.status, 200, bad.text);
    assert.match(header(bad, 'x-switchyard-route') ?? '', /rule=grounded; task=grounded_qa/);
    await expectEscalated(bad, { check: 'grounded', cost: header(bad, 'x-switchyard-cost-usd'),
      text: chatText(bad.json) });

    await emulator.reset(s.emulatorUrl);
    const good = await chat(s.url, body, { headers });
    assert.equal(good.status, 200, good.text);
    assert.equal(header(good, 'x-switchyard-model'), 'cheap');
    assert.equal(header(good, 'x-switchyard-verify'), 'checks=grounded; result=passed; attempt=1');
    assert.deepEqual(await upstreamModels(), ['cheap']);
    const attempts = await attemptRows(s.dbPath, header(good, 'x-switchyard-request-id'));
    assert.deepEqual(attempts.map((a) => [a.model, a.outcome, a.verdict]), [['cheap', 'ok', 'passed']]);
  });

  // --- 4. one content fault per check -----------------------------------------------------------

  test('non_empty: an empty answer escalates (Chat)', async () => {
    await badOutput('cheap', 'empty');
    const res = await chat(s.url, { model: 'auto', messages: user('Write a haiku about rain.') },
      { headers: { 'x-switchyard-tags': 'non-empty' } });
    assert.equal(res.status, 200, res.text);
    assert.ok(chatText(res.json).length > 0);
    await expectEscalated(res, { check: 'non_empty', cost: header(res, 'x-switchyard-cost-usd'),
      text: chatText(res.json) });
  });

  test('no_refusal: a refusal escalates (Messages)', async () => {
    await badOutput('cheap', 'refusal');
    const res = await messages(s.url,
      { model: 'auto', max_tokens: 200, messages: user('Write a haiku about rain.') },
      { headers: { 'x-switchyard-tags': 'no-refusal' } });
    assert.equal(res.status, 200, res.text);
    assert.notEqual(res.json.stop_reason, 'refusal');
    const text = anthropicText(res.json);
    assert.ok(text.length > 0 && !/can't help/i.test(text), text);
    await expectEscalated(res, { check: 'no_refusal', cost: header(res, 'x-switchyard-cost-usd'),
      text });
  });

  test('json: invalid JSON escalates (held Chat stream, json_object)', async () => {
    await badOutput('cheap', 'invalid_json');
    const res = await streamChat(s.url, {
      model: 'auto', stream: true, messages: user('List three rivers as a JSON object.'),
      response_format: { type: 'json_object' },
    }, { headers: { 'x-switchyard-tags': 'json' } });
    assert.equal(res.status, 200, res.raw);
    assert.equal(res.events.at(-1).data, '[DONE]', res.raw);
    const text = streamedText(res.events);
    assert.doesNotThrow(() => JSON.parse(text), `the answer is JSON: ${text}`);
    await expectEscalated(res, { check: 'json', cost: res.trailers['x-switchyard-cost-usd'], text });
  });

  // --- 5. record mode ---------------------------------------------------------------------------

  test('verify_mode record: the bad answer streams at once; the verdict is only recorded', async () => {
    await emulator.setProfile(s.emulatorUrl, 'cheap', SLOW);
    try {
      await badOutput('cheap', 'ungrounded');
      const res = await streamChat(s.url,
        { model: 'auto', stream: true, messages: user(GROUNDED_PROMPT) },
        { headers: { 'x-switchyard-tags': 'record' } });
      assert.equal(res.status, 200, res.raw);
      assert.equal(res.events.at(-1).data, '[DONE]', res.raw);
      assert.equal(header(res, 'x-switchyard-verify'), 'checks=grounded; result=recorded');
      assert.equal(header(res, 'x-switchyard-model'), 'cheap');
      const text = streamedText(res.events);
      assert.ok(text.includes(UNGROUNDED_MARK), `the client got the bad answer: ${text}`);
      // Relayed as it came: the first words arrived long before the last (at 20 tokens/s).
      const pieces = contentEvents(res.events);
      assert.ok(pieces.length > 5, `streamed in pieces: ${pieces.length}`);
      assert.ok(pieces[0].t < pieces.at(-1).t - 700,
        `first piece at ${(pieces[0].t - res.startedAt).toFixed(0)} ms, last at `
        + `${(pieces.at(-1).t - res.startedAt).toFixed(0)} ms`);
      assert.deepEqual(await upstreamModels(), ['cheap'], 'no escalation');

      const id = header(res, 'x-switchyard-request-id');
      const attempts = await attemptRows(s.dbPath, id);
      assert.equal(attempts.length, 1);
      assert.equal(attempts[0].model, 'cheap');
      // The answer was sent, so the attempt is ok; its verdict says what the check found.
      assert.equal(attempts[0].outcome, 'ok');
      assert.ok(attempts[0].verdict.startsWith('recorded: rejected: grounded'), attempts[0].verdict);
      const row = await requestRow(s.dbPath, id);
      assert.equal(row.status, 200);
      assert.equal(row.chosen_model, 'cheap');
      assert.equal(row.verify, 'checks=grounded; result=recorded');
      assert.equal(usdToPico(res.trailers['x-switchyard-cost-usd']), sumPico(attempts));
    } finally {
      await emulator.setProfile(s.emulatorUrl, 'cheap', FAST);
    }
  });

  // --- 6. the request header --------------------------------------------------------------------

  test('x-switchyard-verify on an alias escalates along it; on a model: 502, no escalation',
    async () => {
      const body = { ...chatSchemaBody(), model: 'ladder' };
      await badOutput('cheap', 'schema_violation');
      const viaAlias = await chat(s.url, body, { headers: { 'x-switchyard-verify': 'json_schema' } });
      assert.equal(viaAlias.status, 200, viaAlias.text);
      assert.match(header(viaAlias, 'x-switchyard-route') ?? '', /rule=alias ladder/);
      await expectEscalated(viaAlias, { check: 'json_schema',
        cost: header(viaAlias, 'x-switchyard-cost-usd'), text: chatText(viaAlias.json) });

      await emulator.reset(s.emulatorUrl);
      await badOutput('cheap', 'schema_violation');
      const direct = await chat(s.url, { ...body, model: 'cheap' },
        { headers: { 'x-switchyard-verify': 'json_schema' } });
      assert.equal(direct.status, 502, direct.text);
      assertOpenAIError(assert, direct.json, { status: 502, type: 'upstream_error' });
      assert.equal(direct.json.error.code, 'verification_failed');
      assert.match(direct.json.error.message, /json_schema/);
      assert.deepEqual(await upstreamModels(), ['cheap']);
      await expectAllRejected(header(direct, 'x-switchyard-request-id'), ['cheap'], 502);
    });

  test('x-switchyard-verify: unknown check, regex, json_schema without a schema, a schema that '
    + 'does not compile -> 400 in the dialect, nothing sent upstream', async () => {
    const ids = [];
    // `param`: the OpenAI error's param (undefined: not pinned).
    const expect400 = async (res, anthropic, pattern, param = 'x-switchyard-verify') => {
      assert.equal(res.status, 400, res.text);
      let message;
      if (anthropic) {
        message = assertAnthropicError(res.json, 'invalid_request_error');
      } else {
        assertOpenAIError(assert, res.json, { status: 400, param });
        message = res.json.error.message;
      }
      assert.match(message, pattern);
      ids.push(header(res, 'x-switchyard-request-id'));
    };
    const plain = { model: 'strong', messages: user('Say hello') };
    const plainAn = { model: 'strong', max_tokens: 100, messages: user('Say hello') };

    const unknown = { 'x-switchyard-verify': 'non_empty,nope' };
    await expect400(await chat(s.url, plain, { headers: unknown }), false, /nope/);
    await expect400(await messages(s.url, plainAn, { headers: unknown }), true, /nope/);
    await expect400(await chat(s.url, plain, { headers: { 'x-switchyard-verify': 'regex' } }),
      false, /regex/);

    const schemaCheck = { 'x-switchyard-verify': 'json_schema' };
    await expect400(await chat(s.url, plain, { headers: schemaCheck }), false, /json_schema/);
    await expect400(await messages(s.url, plainAn, { headers: schemaCheck }), true, /json_schema/);

    // The top level is a valid object schema (the decoders accept it); a property's is not.
    const broken = { type: 'object', properties: { age: { type: 12 } }, required: ['age'] };
    const brokenChat = { ...plain,
      response_format: { type: 'json_schema', json_schema: { name: 'person', schema: broken } } };
    await expect400(await chat(s.url, brokenChat, { headers: schemaCheck }), false,
      /properties.{0,4}age/, 'response_format.json_schema.schema');
    const brokenAn = { ...plainAn, output_config: { format: { type: 'json_schema', schema: broken } } };
    await expect400(await messages(s.url, brokenAn, { headers: schemaCheck }), true,
      /properties.{0,4}age/);

    assert.deepEqual(await upstreamModels(), [], 'nothing reached an upstream');
    const rows = await ledgerRows(s.dbPath, ids);
    assert.equal(rows.length, ids.length);
    for (const row of rows) assert.equal(row.status, 400, JSON.stringify(row));
  });

  // --- 7. no verification -----------------------------------------------------------------------

  test('no verification: no x-switchyard-verify header, streams relayed unbuffered', async () => {
    const res = await chat(s.url, { model: 'auto', messages: user('Tell me a story about a lighthouse.') });
    assert.equal(res.status, 200, res.text);
    assert.match(header(res, 'x-switchyard-route') ?? '', /rule=default/);
    assert.equal(header(res, 'x-switchyard-verify'), null);
    const direct = await chat(s.url, { model: 'strong', messages: user('Say hello') });
    assert.equal(direct.status, 200, direct.text);
    assert.equal(header(direct, 'x-switchyard-verify'), null);
    for (const id of [header(res, 'x-switchyard-request-id'), header(direct, 'x-switchyard-request-id')]) {
      const attempts = await attemptRows(s.dbPath, id);
      assert.deepEqual(attempts.map((a) => [a.outcome, a.verdict]), [['ok', '']]);
      assert.equal((await requestRow(s.dbPath, id)).verify, '');
    }

    await emulator.setProfile(s.emulatorUrl, 'cheap', SLOW);
    try {
      const stream = await streamChat(s.url, { model: 'auto', stream: true, max_tokens: 40,
        messages: user('Tell me a story about a lighthouse.') });
      assert.equal(stream.status, 200, stream.raw);
      assert.equal(header(stream, 'x-switchyard-verify'), null);
      assert.equal(header(stream, 'x-switchyard-model'), 'cheap');
      const pieces = contentEvents(stream.events);
      assert.ok(pieces.length > 5, `streamed in pieces: ${pieces.length}`);
      assert.ok(pieces[0].t < pieces.at(-1).t - 700,
        `first piece at ${(pieces[0].t - stream.startedAt).toFixed(0)} ms, last at `
        + `${(pieces.at(-1).t - stream.startedAt).toFixed(0)} ms`);
    } finally {
      await emulator.setProfile(s.emulatorUrl, 'cheap', FAST);
    }
  });

  testCleanShutdown(() => s);
});

// An answer longer than verification.max_held_bytes is rejected before its usage arrives: its
// output is estimated from the text it generated (as a relayed stream's is), not from the
// events' JSON, which is several times longer per token.
describe('verification: an answer too long to hold', () => {
  let s;
  const heldConfig = (o) => `${verifyConfig(o)}verification:
  max_held_bytes: 4096
`;
  shareServe(heldConfig, async (served) => {
    s = served;
    for (const model of MODELS) await emulator.setProfile(s.emulatorUrl, model, FAST);
  });

  test('the rejected attempt is estimated from its generated text', async () => {
    const res = await streamChat(s.url, {
      model: 'auto', stream: true, max_tokens: 400,
      messages: user('Write a long story about a lighthouse keeper and a storm.'),
    }, { headers: { 'x-switchyard-tags': 'non-empty' } });
    // Both models' answers are too long to hold: nothing reached the client, and it gets 502.
    assert.equal(res.status, 502, res.raw);
    const id = header(res, 'x-switchyard-request-id');
    await requestRow(s.dbPath, id);
    const attempts = await sqlite(s.dbPath, `SELECT idx, verdict, output_tokens, usage_estimated
      FROM attempts WHERE request_id = '${id}' ORDER BY idx`);
    assert.equal(attempts.length, 2, JSON.stringify(attempts));
    for (const a of attempts) {
      assert.equal(a.verdict, 'rejected: too long to verify', JSON.stringify(a));
      assert.equal(a.usage_estimated, 1);
      // 4 KiB of chunks carry a few hundred bytes of text, about a token a chunk: far under the
      // 1,024 tokens a quarter of the JSON would make.
      assert.ok(a.output_tokens > 0 && a.output_tokens < 200, JSON.stringify(a));
    }
  });

  testCleanShutdown(() => s);
});
