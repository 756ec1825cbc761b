// Shadow traffic (a routing rule's `shadow: {model, sample}`): a sampled live request is mirrored
// to the candidate model after the live answer went out. The client's answer, its cost and its
// latency do not change (measured against the same route without a shadow); the shadow's row is
// kept apart in the ledger's shadows table with its own cost, exact, and how its answer agreed;
// over routing.shadow_max_in_flight a shadow is dropped, not queued; streams, Anthropic Messages
// and stored Responses turns are shadowed too (a shadow's answer is never stored);
// `switchyard shadow report` sums it up; a shutdown still records the shadows it waited for.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';

import {
  chat, emulator, ledgerRows, ledgerSettled, messages, parseMetrics, pollUntil, postJson, runToExit,
  sanitizerReports, shareServe, sqlite, startServeWithEmulator, streamChat, testConfigYaml,
  testCleanShutdown, userMessage, usdToPico,
} from '../testutil/harness.mjs';

const SLOW_SHADOW_MS = 800;

// Two profiles with the same one-model chain; `auto`'s rule shadows every request to gpt-5.5.
function shadowConfig(o, { maxInFlight = 16, sample = 1 } = {}) {
  return `${testConfigYaml(o)}routing:
  shadow_max_in_flight: ${maxInFlight}
  profiles:
    auto:
      rules:
        - name: cheap
          chain: [deepseek-v4-flash]
          verify: [non_empty]
          shadow: {model: gpt-5.5, sample: ${sample}}
    plain:
      rules:
        - name: cheap
          chain: [deepseek-v4-flash]
          verify: [non_empty]
    unchecked:
      rules:
        - name: unchecked
          chain: [deepseek-v4-flash]
          shadow: {model: gpt-5.5, sample: ${sample}}
metrics: {enabled: true}
`;
}

const body = (model, text) => ({ model, max_tokens: 32, messages: userMessage(text) });

function shadowRows(dbPath, where = '1 = 1') {
  return sqlite(dbPath, `SELECT * FROM shadows WHERE ${where} ORDER BY started_at_ms`);
}

function median(values) {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor((sorted.length - 1) / 2)];
}

async function timedChat(url, request) {
  const started = performance.now();
  const res = await chat(url, request);
  return { res, ms: performance.now() - started };
}

describe('shadow traffic', () => {
  let s;
  shareServe(shadowConfig, async (served) => {
    s = served;
  });

  test('the client gets the same answer and cost; the shadow is recorded apart', async () => {
    const live = await chat(s.url, body('auto', 'What is the capital of France?'));
    const plain = await chat(s.url, body('auto:plain', 'What is the capital of France?'));
    assert.equal(live.status, 200, live.text);
    assert.equal(plain.status, 200, plain.text);
    assert.equal(live.json.choices[0].message.content, plain.json.choices[0].message.content);
    assert.deepEqual(live.json.usage, plain.json.usage);
    assert.equal(live.headers.get('x-switchyard-model'), 'deepseek-v4-flash');
    assert.equal(live.headers.get('x-switchyard-cost-usd'), plain.headers.get('x-switchyard-cost-usd'));

    const liveId = live.headers.get('x-switchyard-request-id');
    const rows = await pollUntil(async () => {
      const got = await shadowRows(s.dbPath, `shadow_of = '${liveId}'`);
      return got.length ? got : null;
    }, { timeoutMs: 10000 });
    assert.ok(rows, 'the shadow row arrives');
    assert.equal(rows.length, 1);
    const row = rows[0];
    assert.equal(row.model, 'gpt-5.5');
    assert.equal(row.chosen_model, 'gpt-5.5');
    assert.equal(row.status, 200);
    assert.equal(row.profile, 'auto');
    assert.equal(row.rule, 'cheap');
    assert.match(row.agreement, /^(exact|json|differs)$/);
    assert.equal(row.verdict, 'recorded: passed', 'the live rule\'s checks ran, recording only');
    // Its cost is gpt-5.5's list price on its own usage, to the pico-dollar.
    const expected = BigInt(row.input_tokens) * 5_000_000n + BigInt(row.output_tokens) * 30_000_000n;
    assert.equal(BigInt(row.cost_pico), expected);
    assert.ok(expected > 0n);

    // Not a live request: the requests table has the live row only, and spend does not see it.
    const requests = await sqlite(s.dbPath, `SELECT request_id FROM requests WHERE request_id = '${row.request_id}'`);
    assert.deepEqual(requests, []);
    const upstream = (await emulator.requests(s.emulatorUrl))
      .filter((r) => /chat\/completions$/.test(r.path ?? ''));
    const shadowCall = upstream.find((r) => r.body?.model === 'gpt-5.5');
    assert.ok(shadowCall, 'the shadow reached its model');
    assert.equal(shadowCall.body.stream, undefined, 'a shadow is never streamed');
  });

  test('the client\'s latency does not change, though the shadow model is slow', async () => {
    await emulator.setProfile(s.emulatorUrl, 'gpt-5.5', { ttft_ms: SLOW_SHADOW_MS, tokens_per_s: 0 });
    await emulator.setProfile(s.emulatorUrl, 'deepseek-v4-flash', { ttft_ms: 5, tokens_per_s: 0 });
    const shadowed = [];
    const plain = [];
    const liveIds = [];
    for (let i = 0; i < 12; i++) {
      const a = await timedChat(s.url, body('auto', `latency probe ${i}`));
      liveIds.push(a.res.headers.get('x-switchyard-request-id'));
      const b = await timedChat(s.url, body('auto:plain', `latency probe ${i}`));
      assert.equal(a.res.status, 200);
      assert.equal(b.res.status, 200);
      shadowed.push(a.ms);
      plain.push(b.ms);
    }
    const [withShadow, without] = [median(shadowed), median(plain)];
    console.log(`live p50 with a shadow ${withShadow.toFixed(1)} ms, without ${without.toFixed(1)} ms; `
      + `max with ${Math.max(...shadowed).toFixed(1)} ms (the shadow model takes ${SLOW_SHADOW_MS} ms)`);
    assert.ok(Math.max(...shadowed) < SLOW_SHADOW_MS, 'no live request waited for its shadow');
    assert.ok(withShadow <= without * 1.5 + 15, `p50 ${withShadow} ms against ${without} ms`);
    // Every shadow ran to its end afterwards, on the slow model.
    const ids = liveIds.map((id) => `'${id}'`).join(',');
    const rows = await pollUntil(async () => {
      const got = await shadowRows(s.dbPath, `shadow_of IN (${ids})`);
      return got.length === liveIds.length ? got : null;
    }, { timeoutMs: 15000 });
    assert.ok(rows, 'every shadow was recorded');
    for (const row of rows) assert.ok(row.latency_ms >= SLOW_SHADOW_MS, JSON.stringify(row));
    await emulator.setProfile(s.emulatorUrl, 'gpt-5.5', { ttft_ms: 1, tokens_per_s: 0 });
  });

  test('a streamed live answer is shadowed too, and compared', async () => {
    const streamed = await streamChat(s.url, { ...body('auto', 'Stream me a greeting'), stream: true });
    assert.equal(streamed.status, 200);
    const liveId = streamed.headers['x-switchyard-request-id'];
    const rows = await pollUntil(async () => {
      const got = await shadowRows(s.dbPath, `shadow_of = '${liveId}'`);
      return got.length ? got : null;
    }, { timeoutMs: 10000 });
    assert.ok(rows, 'the shadow row arrives');
    assert.match(rows[0].agreement, /^(exact|json|differs)$/, 'the stream was read for agreement');
  });

  async function shadowOf(liveId) {
    const rows = await pollUntil(async () => {
      const got = await shadowRows(s.dbPath, `shadow_of = '${liveId}'`);
      return got.length ? got : null;
    }, { timeoutMs: 10000 });
    assert.ok(rows, `the shadow of ${liveId} arrives`);
    return rows[0];
  }

  test('an Anthropic request is shadowed in its own dialect', async () => {
    const live = await messages(s.url, body('auto', 'Name a prime number'));
    assert.equal(live.status, 200, live.text);
    assert.equal(live.json.type, 'message');
    const row = await shadowOf(live.headers.get('x-switchyard-request-id'));
    assert.equal(row.dialect, 'anthropic');
    assert.equal(row.endpoint, '/v1/messages');
    assert.equal(row.status, 200, row.error_message);
    assert.match(row.agreement, /^(exact|json|differs)$/);
  });

  test('a stored Responses request is shadowed, and the shadow\'s answer is not stored', async () => {
    const live = await postJson(`${s.url}/v1/responses`,
      { model: 'auto', input: 'Name a colour', store: true });
    assert.equal(live.status, 200, live.text);
    const row = await shadowOf(live.headers.get('x-switchyard-request-id'));
    assert.equal(row.dialect, 'responses');
    assert.equal(row.status, 200, row.error_message);
    await ledgerSettled(s.dbPath);
    const stored = await sqlite(s.dbPath, 'SELECT id FROM responses');
    assert.deepEqual(stored.map((r) => r.id), [live.json.id], 'only the live answer is stored');
    // A follow-up turn is shadowed with the stored conversation in front of it.
    const next = await postJson(`${s.url}/v1/responses`,
      { model: 'auto', input: 'And another one', previous_response_id: live.json.id, store: false });
    assert.equal(next.status, 200, next.text);
    const followUp = await shadowOf(next.headers.get('x-switchyard-request-id'));
    assert.equal(followUp.status, 200, followUp.error_message);
    assert.ok(followUp.input_tokens > row.input_tokens, 'the shadow saw the whole conversation');
  });

  test('shadow report compares live and shadow for the rule', async () => {
    await ledgerSettled(s.dbPath);
    const report = await runToExit(['shadow', 'report', '--ledger', s.dbPath, '--format', 'json']);
    assert.equal(report.code, 0, report.stderr);
    const parsed = JSON.parse(report.stdout);
    const group = parsed.groups.find((g) => g.shadow_model === 'gpt-5.5');
    assert.ok(group, report.stdout);
    const rows = await shadowRows(s.dbPath);
    assert.equal(group.shadows, rows.length);
    const shadowPico = rows.reduce((sum, r) => sum + BigInt(r.cost_pico), 0n);
    assert.equal(usdToPico(group.shadow_cost_usd), shadowPico);
  });

  test('shadow metrics count what was sent and what it cost', async () => {
    const text = await (await fetch(`${s.url}/metrics`)).text();
    const parsed = parseMetrics(text);
    const ok = parsed.samples.find((x) => x.name === 'switchyard_shadow_requests_total'
      && x.labels.result === 'ok' && x.labels.profile === 'auto' && x.labels.rule === 'cheap');
    assert.ok(ok && Number(ok.value) >= 3, text);
    assert.ok(parsed.samples.some((x) => x.name === 'switchyard_shadow_cost_usd_total'
      && x.labels.model === 'gpt-5.5'));
    // Shadows are not requests: every request sample is a live one.
    const requests = parsed.samples.filter((x) => x.name === 'switchyard_requests_total'
      && x.labels.model === 'gpt-5.5');
    assert.deepEqual(requests, []);
  });

  // After the report and metrics tests, which count the `auto` rule's shadows.
  test('without checks on the rule both complete answers are still read for agreement', async () => {
    // Nothing but the comparison reads these answers' JSON (the live one passes through
    // unchanged): the live request and its shadow must still ask their provider for it.
    const live = await chat(s.url, body('auto:unchecked', 'What is the capital of Italy?'));
    assert.equal(live.status, 200, live.text);
    assert.ok(live.json.usage.prompt_tokens > 0);
    const row = await shadowOf(live.headers.get('x-switchyard-request-id'));
    assert.equal(row.rule, 'unchecked');
    assert.equal(row.status, 200, row.error_message);
    assert.match(row.agreement, /^(exact|json|differs)$/);
  });

  testCleanShutdown(() => s);
});

describe('shadow traffic under load and at shutdown', () => {
  test('over shadow_max_in_flight a shadow is dropped, not queued', async () => {
    const s = await startServeWithEmulator((o) => shadowConfig(o, { maxInFlight: 2 }));
    try {
      await emulator.setProfile(s.emulatorUrl, 'gpt-5.5', { ttft_ms: 1500, tokens_per_s: 0 });
      const answers = await Promise.all(Array.from({ length: 8 },
        (_, i) => chat(s.url, body('auto', `burst ${i}`))));
      for (const a of answers) assert.equal(a.status, 200);
      // A shadow starts right after its live row is queued; once the rows are written, every
      // shadow has started or been dropped (a SIGTERM before that would refuse it instead).
      await ledgerRows(s.dbPath, answers.map((a) => a.headers.get('x-switchyard-request-id')));
      const text = await (await fetch(`${s.url}/metrics`)).text();
      const dropped = parseMetrics(text).samples.find((x) =>
        x.name === 'switchyard_shadow_requests_total' && x.labels.result === 'dropped');
      assert.ok(dropped && Number(dropped.value) >= 1, text);
      // Stopping waits for the shadows in flight (within the grace) and records them.
      const result = await s.stop();
      assert.equal(result.code, 0, result.stderr);
      assert.deepEqual(sanitizerReports(result.stderr), []);
      const rows = await shadowRows(s.dbPath);
      assert.equal(rows.length, 8 - Number(dropped.value));
      assert.ok(rows.length <= 8);
      for (const row of rows) assert.equal(row.status, 200, JSON.stringify(row));
    } finally {
      await s.stop();
      s.cleanup();
    }
  });

  test('a sample of 0.5 mirrors about half, decided by the request id', async () => {
    const s = await startServeWithEmulator((o) => shadowConfig(o, { sample: 0.5 }));
    try {
      const ids = [];
      for (let i = 0; i < 40; i++) {
        const a = await chat(s.url, body('auto', `sample ${i}`));
        ids.push(a.headers.get('x-switchyard-request-id'));
      }
      const result = await s.stop();
      assert.equal(result.code, 0, result.stderr);
      const rows = await shadowRows(s.dbPath);
      assert.ok(rows.length >= 8 && rows.length <= 32, `${rows.length} of 40 shadowed`);
      for (const row of rows) assert.ok(ids.includes(row.shadow_of));
    } finally {
      await s.stop();
      s.cleanup();
    }
  });
});
