// The routing policy through the demo (its emulator behind it): `"model": "auto"` classifies the
// prompt and the first matching rule of config/demo.yaml picks the chain; the constraints
// (context window, x-switchyard-max-cost-usd) drop candidates on every route; the routing headers
// are checked in both dialects; explain (endpoint and CLI) shows the decision without calling an
// upstream or writing a ledger row; spend groups the ledger by task type and by rule.
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, test } from 'node:test';

import {
  DECIMAL_RE, ANTHROPIC_HEADERS, assertOpenAIError, chat, emulator, getJson, ledgerRows, messages,
  modelRequests, postJson, runToExit, shareDemo, shareServe, sqlite, tempDir,
  promtoolCheck, testCleanShutdown, testConfigYaml, usdToPico,
} from '../testutil/harness.mjs';

// ---------------------------------------------------------------------------------------------
// Prompts

const INVOICE = `Extract the invoice number, invoice date, due date, vendor name, customer name, each
line item (description, quantity, unit price, amount), the subtotal, the VAT and the total from
the invoice below, and return them as JSON.

ACME Industrial Supplies GmbH
Hafenstrasse 12, 20457 Hamburg, Germany
VAT ID: DE 812 345 678

INVOICE
Invoice no.: INV-2026-00417
Invoice date: 14 November 2026
Due date: 14 December 2026

Bill to:
Nordlicht Logistics AB
Attn: Accounts Payable
Stora Nygatan 5, 111 27 Stockholm, Sweden

Description                          Qty   Unit price    Amount
Hydraulic hose DN16, 10 m              4      EUR 86.50   EUR 346.00
Stainless steel fittings (pack of 50)  2      EUR 42.00   EUR  84.00
Pallet jack repair service             1     EUR 215.00   EUR 215.00

Subtotal                                                  EUR 645.00
VAT 19%                                                   EUR 122.55
Total due                                                 EUR 767.55

Payment: bank transfer to IBAN DE89 3704 0044 0532 0130 00, BIC COBADEFFXXX.
Please quote the invoice number with your payment.`;

const HISTORY = "When did the Thirty Years' War end, and which treaty ended it?";

const MATH = 'Solve for x: 3x^2 - 12x + 9 = 0. Show each step of the calculation.';

const user = (text) => [{ role: 'user', content: text }];

// ~1.2 MB of varied prose (a seeded generator, so every run sends the same bytes): about 300K
// prompt tokens, past gpt-5.5's 256K window and within the 1M ones.
function longPrompt(bytes = 1_200_000) {
  const words = ['harbour', 'ledger', 'granite', 'whistle', 'meadow', 'copper', 'lantern',
    'orchard', 'signal', 'timber', 'quarry', 'falcon', 'ember', 'glacier', 'parcel', 'river',
    'station', 'voyage', 'willow', 'anchor', 'basalt', 'cinder', 'delta', 'fjord', 'gable',
    'hinterland', 'isthmus', 'juniper', 'kestrel', 'lagoon', 'marsh', 'nettle', 'obsidian'];
  let seed = 0x2545f491;
  const next = () => {
    seed = (seed * 1103515245 + 12345) >>> 0;
    return seed >>> 8;
  };
  const parts = ['Summarise the following field notes in three sentences.\n\n'];
  let size = parts[0].length;
  let n = 0;
  while (size < bytes) {
    const len = 8 + (next() % 10);
    const sentence = [];
    for (let i = 0; i < len; ++i) sentence.push(words[next() % words.length]);
    sentence.push(String(next() % 10000));
    const text = `${++n}. ${sentence.join(' ')}.${n % 7 === 0 ? '\n' : ' '}`;
    parts.push(text);
    size += text.length;
  }
  return parts.join('');
}

// ---------------------------------------------------------------------------------------------
// Helpers

const routeOf = (res) => (res.headers.get ? res.headers.get('x-switchyard-route')
  : res.headers['x-switchyard-route']);
const modelOf = (res) => res.headers.get('x-switchyard-model');
const requestIdOf = (res) => res.headers.get('x-switchyard-request-id');

function explain(baseUrl, body, { headers = {}, anthropic = false } = {}) {
  return postJson(`${baseUrl}/v1/route/explain`, body,
    { headers: anthropic ? { ...ANTHROPIC_HEADERS, ...headers } : headers });
}

// Explain's answer, summarised: the decision without the costs.
function decisionOf(json) {
  return {
    profile: json.profile,
    rule: json.rule,
    task_type: json.task_type,
    kept: json.candidates.filter((c) => c.kept).map((c) => c.model),
    dropped: json.candidates.filter((c) => !c.kept).map((c) => `${c.model}:${c.constraint}`),
  };
}

// Every candidate row is well formed: exact decimal costs, kept ones first.
function assertCandidates(json) {
  assert.ok(Array.isArray(json.candidates) && json.candidates.length > 0, JSON.stringify(json));
  let seenDropped = false;
  for (const c of json.candidates) {
    assert.match(c.estimated_cost_usd, DECIMAL_RE, JSON.stringify(c));
    assert.match(c.worst_case_cost_usd, DECIMAL_RE, JSON.stringify(c));
    assert.equal(typeof c.provider, 'string');
    assert.equal(typeof c.reason, 'string');
    if (c.kept) {
      assert.ok(!seenDropped, `kept candidate ${c.model} after a dropped one`);
      assert.equal(c.constraint, undefined);
    } else {
      seenDropped = true;
      assert.equal(typeof c.constraint, 'string', JSON.stringify(c));
    }
  }
}

// BigInt pico-dollars -> the shortest exact decimal string.
function picoToUsd(pico) {
  const whole = pico / 10n ** 12n;
  const frac = String(pico % 10n ** 12n).padStart(12, '0').replace(/0+$/, '');
  return frac ? `${whole}.${frac}` : String(whole);
}

// The Anthropic error shape: {"type":"error","error":{"type","message"}}.
function assertAnthropicError(json, type) {
  assert.equal(json?.type, 'error', JSON.stringify(json));
  assert.equal(json.error?.type, type, JSON.stringify(json));
  assert.equal(typeof json.error.message, 'string');
  return json.error.message;
}

const upstreamModelsOf = async (demo) =>
  modelRequests(await emulator.requests(demo.emulatorUrl)).map((r) => r.body?.model);

const attemptsOf = (dbPath, id) => sqlite(dbPath,
  `SELECT idx, model, http_status, error_code, outcome FROM attempts WHERE request_id = '${id}' ORDER BY idx`);

// ---------------------------------------------------------------------------------------------

describe('routing: auto through the demo', () => {
  let demo;
  shareDemo((d) => {
    demo = d;
  });

  const upstreamModels = () => upstreamModelsOf(demo);

  test('auto classifies an invoice extraction -> deepseek-v4-flash (cheap-text)', async () => {
    const res = await chat(demo.url, { model: 'auto', messages: user(INVOICE) });
    assert.equal(res.status, 200, res.text);
    assert.equal(modelOf(res), 'deepseek-v4-flash', `route: ${routeOf(res)}`);
    assert.equal(routeOf(res), 'profile=auto; rule=cheap-text; task=extraction');
    assert.equal(res.headers.get('x-switchyard-attempts'), '1');
    assert.match(res.headers.get('x-switchyard-cost-usd') ?? '', DECIMAL_RE);
    assert.deepEqual(await upstreamModels(), ['deepseek-v4-flash']);
    const [row] = await ledgerRows(demo.dbPath, [requestIdOf(res)]);
    assert.equal(row.task_type, 'extraction');
    assert.equal(row.profile, 'auto');
    assert.equal(row.rule, 'cheap-text');
    assert.equal(row.requested_model, 'auto');
    assert.equal(row.chosen_model, 'deepseek-v4-flash');
    assert.match(row.route_reason, /^auto\/cheap-text \[deepseek-v4-flash > mistral-small-4/);
  });

  test('auto classifies a history question -> claude-opus-4.7 (facts)', async () => {
    const res = await chat(demo.url, { model: 'auto', messages: user(HISTORY) });
    assert.equal(res.status, 200, res.text);
    assert.equal(modelOf(res), 'claude-opus-4.7', `route: ${routeOf(res)}`);
    assert.equal(routeOf(res), 'profile=auto; rule=facts; task=factual');
    assert.equal(res.headers.get('x-switchyard-provider'), 'anthropic');
    assert.ok(res.json.choices[0].message.content.length > 0);
    const [row] = await ledgerRows(demo.dbPath, [requestIdOf(res)]);
    assert.deepEqual([row.task_type, row.profile, row.rule], ['factual', 'auto', 'facts']);
    assert.match(row.route_reason, /^auto\/facts \[claude-opus-4\.7 > gpt-5\.5\]/);
  });

  test('auto on /v1/messages routes the same way (Anthropic dialect)', async () => {
    const res = await messages(demo.url, { model: 'auto', max_tokens: 512, messages: user(INVOICE) });
    assert.equal(res.status, 200, res.text);
    assert.equal(modelOf(res), 'deepseek-v4-flash');
    assert.equal(routeOf(res), 'profile=auto; rule=cheap-text; task=extraction');
    assert.equal(res.json.type, 'message');
  });

  test('a model or an alias: profile=none with the model or alias as the rule', async () => {
    const direct = await chat(demo.url, { model: 'gpt-5.5', messages: user(HISTORY) });
    assert.equal(direct.status, 200, direct.text);
    assert.equal(routeOf(direct), 'profile=none; rule=model gpt-5.5; task=factual');
    const alias = await chat(demo.url, { model: 'economy', messages: user(INVOICE) });
    assert.equal(alias.status, 200, alias.text);
    assert.equal(routeOf(alias), 'profile=none; rule=alias economy; task=extraction');
    assert.equal(modelOf(alias), 'deepseek-v4-flash');
  });

  test('x-switchyard-task: extraction routes a chat message by the stated type', async () => {
    const body = { model: 'auto', messages: user('Hi! How are you doing today?') };
    const headers = { 'x-switchyard-task': 'extraction' };
    const plain = await explain(demo.url, body);
    assert.equal(plain.status, 200, plain.text);
    assert.notEqual(plain.json.task_type, 'extraction', 'the classifier alone does not say extraction');
    assert.equal(plain.json.features.task_stated, false);

    const ex = await explain(demo.url, body, { headers });
    assert.equal(ex.status, 200, ex.text);
    assert.equal(ex.json.rule, 'cheap-text');
    assert.equal(ex.json.task_type, 'extraction');
    assert.equal(ex.json.features.task_stated, true);
    assert.equal(ex.json.features.task_type, 'extraction');

    const res = await chat(demo.url, body, { headers });
    assert.equal(res.status, 200, res.text);
    assert.equal(routeOf(res), 'profile=auto; rule=cheap-text; task=extraction');
    assert.equal(modelOf(res), 'deepseek-v4-flash');
    const [row] = await ledgerRows(demo.dbPath, [requestIdOf(res)]);
    assert.deepEqual([row.task_type, row.rule], ['extraction', 'cheap-text']);
  });

  // Chat turns go through the learned router, held to a budget: the verdict in explain, the
  // header, the answering model and the ledger agree, for an easy and a hard prompt alike. Both
  // are stated to be chat (the classifier may call the essay reasoning, another rule).
  test('the learned router: explain, x-switchyard-route, the model and the ledger agree', async () => {
    const prompts = ['Hi! How was your weekend?',
      'Compare the philosophical foundations of utilitarianism and deontology, and argue which ' +
      'better handles the trolley problem, addressing the strongest objection to your view.'];
    const headers = { 'x-switchyard-task': 'chat' };
    const scores = [];
    for (const text of prompts) {
      const body = { model: 'auto', messages: user(text) };
      const ex = await explain(demo.url, body, { headers });
      assert.equal(ex.status, 200, ex.text);
      const v = ex.json.router;
      assert.equal(ex.json.rule, 'chat', ex.text);
      assert.ok(v && v.score >= 0 && v.score <= 1, ex.text);
      assert.match(v.calibration, /^budget_usd_per_1k_requests 2: strong share 0\.\d{4}$/);
      const side = v.decision === 'strong' ? 'gpt-5.5' : 'deepseek-v4-flash';
      assert.equal(ex.json.candidates[0].model, side, ex.text);
      const verdict = `${v.score.toFixed(4)}${v.decision === 'strong' ? '>=' : '<'}` +
        `${v.threshold.toFixed(4)} ${v.decision}`;
      const res = await chat(demo.url, body, { headers });
      assert.equal(res.status, 200, res.text);
      assert.equal(routeOf(res), `profile=auto; rule=chat; task=chat; router=${verdict}`);
      assert.equal(modelOf(res), side);
      const [row] = await ledgerRows(demo.dbPath, [requestIdOf(res)]);
      assert.ok(row.route_reason.endsWith(` router ${verdict}`), row.route_reason);
      scores.push(v.score);
    }
    // The router ranks the essay as needing the strong model more than the small talk.
    assert.ok(scores[1] > scores[0], `scores ${scores}`);
  });

  test('x-switchyard-max-cost-usd drops the dear models; below every candidate -> 400', async () => {
    const body = { model: 'auto', max_tokens: 2000, messages: user(MATH) };
    const base = await explain(demo.url, body);
    assert.equal(base.status, 200, base.text);
    // The learned router picks the side; the other one is its failover step.
    const verdict = base.json.router;
    assert.ok(verdict, base.text);
    assert.equal(verdict.decision, verdict.score >= verdict.threshold ? 'strong' : 'weak');
    assert.deepEqual([verdict.strong, verdict.weak], ['gpt-5.5', 'deepseek-v4-pro']);
    assert.match(verdict.calibration, /^target_strong_share 0\.3000$/);
    assert.equal(verdict.trained_on.strong, 'gpt-4-1106-preview');
    assert.match(verdict.trained_on.data_sha256, /^[0-9a-f]{64}$/);
    const order = verdict.decision === 'strong' ? ['gpt-5.5', 'deepseek-v4-pro']
      : ['deepseek-v4-pro', 'gpt-5.5'];
    assert.deepEqual(decisionOf(base.json),
      { profile: 'auto', rule: 'math-and-reasoning', task_type: 'math', kept: order, dropped: [] },
      `explain: ${base.text}`);
    const mathRoute = 'profile=auto; rule=math-and-reasoning; task=math; router=' +
      `${verdict.score.toFixed(4)}${verdict.decision === 'strong' ? '>=' : '<'}` +
      `${verdict.threshold.toFixed(4)} ${verdict.decision}`;
    const worst = Object.fromEntries(base.json.candidates.map((c) => [c.model,
      usdToPico(c.worst_case_cost_usd)]));
    assert.ok(worst['deepseek-v4-pro'] < worst['gpt-5.5'], JSON.stringify(base.json.candidates));
    // Halfway between the two worst cases: far from both, whatever the price window.
    const ceiling = picoToUsd((worst['deepseek-v4-pro'] + worst['gpt-5.5']) / 2n);
    const headers = { 'x-switchyard-max-cost-usd': ceiling };

    const ex = await explain(demo.url, body, { headers });
    assert.equal(ex.status, 200, ex.text);
    assertCandidates(ex.json);
    assert.equal(ex.json.max_cost_usd, ceiling);
    assert.deepEqual(decisionOf(ex.json).kept, ['deepseek-v4-pro']);
    const gpt = ex.json.candidates.find((c) => c.model === 'gpt-5.5');
    assert.equal(gpt.kept, false);
    assert.equal(gpt.constraint, 'max_cost_usd');
    assert.match(gpt.reason, new RegExp(`x-switchyard-max-cost-usd ${ceiling.replace('.', '\\.')}`));

    // With the only kept model failing, nothing falls through to gpt-5.5.
    const res = await chat(demo.url, body, { headers });
    assert.equal(res.status, 200, res.text);
    assert.equal(modelOf(res), 'deepseek-v4-pro');
    assert.equal(routeOf(res), mathRoute);
    await emulator.addFault(demo.emulatorUrl, { model: 'deepseek-v4-pro', status: 500, count: 5 });
    const failed = await chat(demo.url, body, { headers });
    assert.equal(failed.status, 502, failed.text);
    assert.ok(!(await upstreamModels()).includes('gpt-5.5'), 'gpt-5.5 was dropped by the ceiling');
    await emulator.reset(demo.emulatorUrl);

    const tiny = picoToUsd(worst['deepseek-v4-pro'] / 10n);
    const refused = await chat(demo.url, body, { headers: { 'x-switchyard-max-cost-usd': tiny } });
    assert.equal(refused.status, 400, refused.text);
    assertOpenAIError(assert, refused.json, { status: 400, param: 'x-switchyard-max-cost-usd' });
    const m = refused.json.error.message.match(
      /^no model satisfies x-switchyard-max-cost-usd=(\S+): cheapest candidate (\S+) estimated (\S+)$/);
    assert.ok(m, refused.json.error.message);
    assert.equal(m[1], tiny);
    assert.equal(m[2], 'deepseek-v4-pro');
    assert.match(m[3], DECIMAL_RE);
    assert.ok(usdToPico(m[3]) > usdToPico(tiny));
    assert.equal(routeOf(refused), mathRoute);
    assert.equal(refused.headers.get('x-switchyard-attempts'), '0');
    const refusedAn = await messages(demo.url, { ...body, max_tokens: 2000 },
      { headers: { 'x-switchyard-max-cost-usd': tiny } });
    assert.equal(refusedAn.status, 400, refusedAn.text);
    assert.match(assertAnthropicError(refusedAn.json, 'invalid_request_error'),
      new RegExp(`no model satisfies x-switchyard-max-cost-usd=${tiny.replace('.', '\\.')}: cheapest candidate deepseek-v4-pro estimated `));
    const rows = await ledgerRows(demo.dbPath, [requestIdOf(refused), requestIdOf(refusedAn)]);
    assert.deepEqual(rows.map((r) => [r.status, r.rule]),
      [[400, 'math-and-reasoning'], [400, 'math-and-reasoning']]);
    assert.deepEqual(await upstreamModels(), [], 'no upstream call for a refused route');

    const noneEx = await explain(demo.url, body, { headers: { 'x-switchyard-max-cost-usd': tiny } });
    assert.equal(noneEx.status, 200, noneEx.text);
    assert.deepEqual(decisionOf(noneEx.json).kept, []);
    assert.match(noneEx.json.error, /^no model satisfies x-switchyard-max-cost-usd=/);
  });

  // The facts rule keeps the DeepSeek models (94-96% hallucination) out with
  // max_hallucination_rate: a ceiling below both frontier models leaves no candidate, a 400.
  // (Regression: the demo rule had only top 2, and request constraints apply before top.)
  test('a ceiling below both frontier models on a factual question -> 400, not DeepSeek',
    async () => {
      const body = { model: 'auto', messages: user(HISTORY) };
      const base = await explain(demo.url, body);
      const worst = Object.fromEntries(base.json.candidates.map((c) => [c.model,
        usdToPico(c.worst_case_cost_usd)]));
      // Above both DeepSeek models' worst cases, below both frontier models'.
      const ceiling = picoToUsd((worst['deepseek-v4-pro'] + worst['claude-opus-4.7']) / 2n);
      const headers = { 'x-switchyard-max-cost-usd': ceiling };
      const ex = await explain(demo.url, body, { headers });
      assert.deepEqual(decisionOf(ex.json).kept, [], `ceiling ${ceiling}: ${ex.text}`);
      const res = await chat(demo.url, body, { headers });
      assert.equal(res.status, 400,
        `ceiling ${ceiling}: HTTP ${res.status} answered by ${modelOf(res)} (${routeOf(res)})`);
      assert.match(res.json.error.message,
        /^no model satisfies x-switchyard-max-cost-usd=\S+: cheapest candidate claude-opus-4\.7 /);
    });

  test('a ~300K-token prompt lands on a 1M-context model', async () => {
    const text = longPrompt();
    assert.ok(text.length >= 1_200_000 && text.length < 1_300_000);
    const started = performance.now();

    const auto = await chat(demo.url, { model: 'auto', max_tokens: 256, messages: user(text) });
    assert.equal(auto.status, 200, auto.text.slice(0, 2000));
    assert.equal(modelOf(auto), 'gemini-3.1-pro');
    assert.match(routeOf(auto), /^profile=auto; rule=long-context; task=/);

    const body = { model: 'frontier', max_tokens: 256, messages: user(text) };
    const ex = await explain(demo.url, body);
    assert.equal(ex.status, 200, ex.text.slice(0, 2000));
    assertCandidates(ex.json);
    assert.ok(ex.json.features.prompt_tokens > 256000, `prompt_tokens ${ex.json.features.prompt_tokens}`);
    assert.ok(ex.json.features.prompt_tokens < 1000000, `prompt_tokens ${ex.json.features.prompt_tokens}`);
    assert.equal(ex.json.profile, null);
    assert.equal(ex.json.rule, 'alias frontier');
    assert.deepEqual(decisionOf(ex.json).kept, ['claude-opus-4.7']);
    const gpt = ex.json.candidates.find((c) => c.model === 'gpt-5.5');
    assert.equal(gpt?.constraint, 'context_window', JSON.stringify(ex.json.candidates));

    const frontier = await chat(demo.url, body);
    assert.equal(frontier.status, 200, frontier.text.slice(0, 2000));
    assert.equal(modelOf(frontier), 'claude-opus-4.7');
    assert.equal(routeOf(frontier).startsWith('profile=none; rule=alias frontier; task='), true);

    const direct = await chat(demo.url, { ...body, model: 'gpt-5.5' });
    assert.equal(direct.status, 400, direct.text.slice(0, 2000));
    assertOpenAIError(assert, direct.json, { status: 400 });
    assert.match(direct.json.error.message, /context_window/);
    assert.match(direct.json.error.message, /gpt-5\.5/);
    // Only the two answered requests reached an upstream; the refused one never left.
    assert.deepEqual(await upstreamModels(), ['gemini-3.1-pro', 'claude-opus-4.7']);
    const elapsed = performance.now() - started;
    assert.ok(elapsed < 15000, `four 1.2 MB requests took ${Math.round(elapsed)} ms`);
  });

  // Bad routing headers, each in both dialects.
  const tooManyTags = Array.from({ length: 17 }, (_, i) => `t${i}`).join(',');
  const BAD_HEADERS = [
    ['x-switchyard-task', 'poetry'],
    ['x-switchyard-task', 'EXTRACTION!'],
    ['x-switchyard-max-cost-usd', 'abc'],
    ['x-switchyard-max-cost-usd', '-1'],
    ['x-switchyard-max-cost-usd', '0'],
    ['x-switchyard-max-cost-usd', '1e-3'],
    ['x-switchyard-tags', tooManyTags],
    ['x-switchyard-tags', `batch,${'x'.repeat(65)}`],
  ];

  test('bad routing headers -> 400 naming the header, both dialects, one ledger row each', async () => {
    const ids = [];
    const problems = [];
    for (const [name, value] of BAD_HEADERS) {
      const headers = { [name]: value };
      const oa = await chat(demo.url, { model: 'auto', messages: user(INVOICE) }, { headers });
      const an = await messages(demo.url, { model: 'auto', max_tokens: 64, messages: user(INVOICE) },
        { headers });
      for (const [dialect, res] of [['openai', oa], ['anthropic', an]]) {
        const what = `${dialect} ${name}: ${value.slice(0, 40)}`;
        if (res.status !== 400) {
          problems.push(`${what}: HTTP ${res.status} ${res.text.slice(0, 300)}`);
          continue;
        }
        if (dialect === 'openai') {
          assertOpenAIError(assert, res.json, { status: 400, type: 'invalid_request_error' });
          if (res.json.error.param !== name) problems.push(`${what}: param ${res.json.error.param}`);
          if (!res.json.error.message.includes(name)) problems.push(`${what}: ${res.json.error.message}`);
        } else {
          const message = assertAnthropicError(res.json, 'invalid_request_error');
          if (!message.includes(name)) problems.push(`${what}: ${message}`);
        }
        ids.push(requestIdOf(res));
      }
    }
    assert.deepEqual(problems, []);
    assert.deepEqual(await upstreamModels(), [], 'no request reached an upstream');
    const rows = await ledgerRows(demo.dbPath, ids);
    assert.equal(rows.length, ids.length, 'exactly one ledger row per refused request');
    for (const row of rows) assert.equal(row.status, 400, JSON.stringify(row));
  });

  test('auto:nope -> 404 listing the profiles, both dialects, one ledger row each', async () => {
    const oa = await chat(demo.url, { model: 'auto:nope', messages: user(HISTORY) });
    assert.equal(oa.status, 404, oa.text);
    assertOpenAIError(assert, oa.json, { status: 404, param: 'model' });
    assert.match(oa.json.error.message, /auto:nope/);
    assert.ok(oa.json.error.message.includes('auto, auto:accurate'), oa.json.error.message);

    const an = await messages(demo.url, { model: 'auto:nope', max_tokens: 64, messages: user(HISTORY) });
    assert.equal(an.status, 404, an.text);
    const message = assertAnthropicError(an.json, 'not_found_error');
    assert.ok(message.includes('auto, auto:accurate'), message);

    const ex = await explain(demo.url, { model: 'auto:nope', messages: user(HISTORY) });
    assert.equal(ex.status, 404, ex.text);

    const ids = [requestIdOf(oa), requestIdOf(an)];
    const rows = await ledgerRows(demo.dbPath, ids);
    assert.equal(rows.length, 2);
    for (const row of rows) {
      assert.equal(row.status, 404);
      assert.equal(row.requested_model, 'auto:nope');
    }
  });

  test('auto:accurate: facts by hallucination rate, the rest on frontier models', async () => {
    const facts = await chat(demo.url, { model: 'auto:accurate', messages: user(HISTORY) });
    assert.equal(facts.status, 200, facts.text);
    assert.equal(routeOf(facts), 'profile=accurate; rule=facts; task=factual');
    assert.equal(modelOf(facts), 'claude-opus-4.7');
    const ex = await explain(demo.url, { model: 'auto:accurate', messages: user(INVOICE) });
    assert.equal(ex.status, 200, ex.text);
    assert.equal(ex.json.profile, 'accurate');
    assert.equal(ex.json.rule, 'frontier');
    assert.equal(decisionOf(ex.json).kept.length, 3);
  });

  test('explain: Chat and Messages bodies; no upstream call, no ledger row', async () => {
    // A ledger row before and one after the explains: the writer keeps order, so the count
    // between them is exact without waiting on a timer.
    const before = await chat(demo.url, { model: 'economy', messages: user('Say hello') });
    await ledgerRows(demo.dbPath, [requestIdOf(before)]);
    const [{ n: rowsBefore }] = await sqlite(demo.dbPath, 'SELECT count(*) AS n FROM requests');
    await emulator.clearRequests(demo.emulatorUrl);

    const oa = await explain(demo.url, { model: 'auto', messages: user(HISTORY) });
    assert.equal(oa.status, 200, oa.text);
    assert.match(oa.headers.get('content-type') ?? '', /application\/json/);
    assertCandidates(oa.json);
    const facts = decisionOf(oa.json);
    assert.deepEqual([facts.profile, facts.rule, facts.task_type, facts.kept],
      ['auto', 'facts', 'factual', ['claude-opus-4.7', 'gpt-5.5']], oa.text);
    assert.ok(facts.dropped.includes('deepseek-v4-flash:hallucination_rate'), facts.dropped.join(' '));
    for (const d of facts.dropped) assert.match(d, /:hallucination_rate$/);
    assert.equal(oa.json.max_cost_usd, undefined);
    assert.equal(oa.json.error, undefined);
    for (const key of ['task_type', 'task_stated', 'prompt_tokens', 'expected_output_tokens', 'tools',
      'json_output', 'code', 'context', 'images', 'language', 'depth']) {
      assert.ok(key in oa.json.features, `features.${key}`);
    }
    assert.equal(oa.json.features.language, 'en');
    assert.equal(oa.json.features.task_stated, false);
    const opus = oa.json.candidates[0];
    assert.equal(opus.provider, 'anthropic');
    assert.equal(opus.reason, 'cheapest #1 by hallucination rate');
    assert.ok(usdToPico(opus.estimated_cost_usd) <= usdToPico(opus.worst_case_cost_usd));

    // A Messages body (anthropic-version): an extraction with room for 4000 output tokens under a
    // 0.01 USD ceiling keeps the two cheap models of the chain.
    const an = await explain(demo.url,
      { model: 'auto', max_tokens: 4000, system: 'Answer as JSON.', messages: user(INVOICE) },
      { anthropic: true,
        headers: { 'x-switchyard-tags': 'batch,team=finance', 'x-switchyard-max-cost-usd': '0.01' } });
    assert.equal(an.status, 200, an.text);
    assertCandidates(an.json);
    const cheap = decisionOf(an.json);
    assert.deepEqual([cheap.profile, cheap.rule, cheap.task_type, cheap.kept],
      ['auto', 'cheap-text', 'extraction', ['deepseek-v4-flash', 'mistral-small-4']], an.text);
    assert.ok(cheap.dropped.includes('gpt-5.5:max_cost_usd'), cheap.dropped.join(' '));
    assert.ok(cheap.dropped.some((d) => /^kimi-k2\.6:max_cost_(usd|per_1k)$/.test(d)),
      cheap.dropped.join(' '));
    assert.equal(an.json.max_cost_usd, '0.01');
    assert.equal(an.json.features.max_output_tokens, 4000);
    for (const c of an.json.candidates.filter((x) => x.kept)) {
      assert.ok(usdToPico(c.worst_case_cost_usd) <= usdToPico('0.01'), JSON.stringify(c));
    }

    // Malformed bodies: 400 in the body's dialect.
    const badOa = await explain(demo.url, { model: 'auto', messages: 'hi' });
    assert.equal(badOa.status, 400, badOa.text);
    assertOpenAIError(assert, badOa.json, { status: 400, param: 'messages' });
    const badJson = await explain(demo.url, '{"model": "auto", "messages": [');
    assert.equal(badJson.status, 400, badJson.text);
    assertOpenAIError(assert, badJson.json, { status: 400 });
    const badAn = await explain(demo.url, { model: 'auto', messages: user(HISTORY) }, { anthropic: true });
    assert.equal(badAn.status, 400, `Messages body without max_tokens: ${badAn.text}`);
    assertAnthropicError(badAn.json, 'invalid_request_error');
    const badHeader = await explain(demo.url, { model: 'auto', messages: user(HISTORY) },
      { headers: { 'x-switchyard-task': 'nope' } });
    assert.equal(badHeader.status, 400, badHeader.text);
    assertOpenAIError(assert, badHeader.json, { status: 400, param: 'x-switchyard-task' });

    assert.deepEqual(await emulator.requests(demo.emulatorUrl), [], 'explain called no upstream');
    const after = await chat(demo.url, { model: 'economy', messages: user('Say hello') });
    await ledgerRows(demo.dbPath, [requestIdOf(after)]);
    const [{ n: rowsAfter }] = await sqlite(demo.dbPath, 'SELECT count(*) AS n FROM requests');
    assert.equal(rowsAfter, rowsBefore + 1, 'explain wrote no ledger row');
    const [{ n: explainRows }] = await sqlite(demo.dbPath,
      "SELECT count(*) AS n FROM requests WHERE endpoint LIKE '%explain%'");
    assert.equal(explainRows, 0);
  });

  test('GET /v1/route/explain is refused: 405, Allow: POST', async () => {
    const res = await fetch(`${demo.url}/v1/route/explain`);
    const text = await res.text();
    assert.equal(res.status, 405, text);
    assert.equal(res.headers.get('allow'), 'POST');
    assert.match(text, /POST/);
    assert.deepEqual(await emulator.requests(demo.emulatorUrl), []);
  });

  test('switchyard route explain --request FILE prints the endpoint\'s decision', async () => {
    const dir = tempDir('switchyard-route-');
    const cases = [
      { name: 'invoice', body: { model: 'auto', messages: user(INVOICE) } },
      { name: 'history', body: { model: 'auto', messages: user(HISTORY) },
        headers: { 'x-switchyard-max-cost-usd': '0.02' }, args: ['--max-cost-usd', '0.02'] },
      { name: 'stated', body: { model: 'auto', messages: user('Hello there') },
        headers: { 'x-switchyard-task': 'extraction' }, args: ['--task', 'extraction'] },
      { name: 'alias', body: { model: 'frontier', messages: user(MATH) } },
      { name: 'messages', body: { model: 'auto', max_tokens: 300, messages: user(HISTORY) },
        anthropic: true, args: ['--dialect', 'anthropic'] },
    ];
    for (const c of cases) {
      const file = path.join(dir, `${c.name}.json`);
      writeFileSync(file, JSON.stringify(c.body));
      const cli = await runToExit(['route', 'explain', '--request', file, ...(c.args ?? [])]);
      assert.equal(cli.code, 0, `${c.name}: ${cli.stderr}`);
      const printed = JSON.parse(cli.stdout);
      const served = await explain(demo.url, c.body, { headers: c.headers, anthropic: c.anthropic });
      assert.equal(served.status, 200, served.text);
      assert.deepEqual(decisionOf(printed), decisionOf(served.json), c.name);
      assert.deepEqual(printed.features, served.json.features, c.name);
      assertCandidates(printed);
    }
    assert.deepEqual(await emulator.requests(demo.emulatorUrl), []);

    const bad = path.join(dir, 'bad.json');
    writeFileSync(bad, '{"model": "auto", "messages": "hi"}');
    const refused = await runToExit(['route', 'explain', '--request', bad]);
    assert.equal(refused.code, 1, refused.stderr);
    assert.equal(refused.stdout, '');
    assert.match(refused.stderr, /messages/);
    const badHeader = await runToExit(['route', 'explain', '--request', path.join(dir, 'invoice.json'),
      '--max-cost-usd', 'abc']);
    assert.equal(badHeader.code, 1, badHeader.stderr);
    assert.match(badHeader.stderr, /x-switchyard-max-cost-usd/);
    const noConfig = await runToExit(['route', 'explain', '--request', path.join(dir, 'invoice.json'),
      '--config', path.join(dir, 'no-such-config.yaml')]);
    assert.equal(noConfig.code, 2, noConfig.stderr);
    assert.match(noConfig.stderr, /no-such-config\.yaml/);
    const noFile = await runToExit(['route', 'explain', '--request', path.join(dir, 'missing.json')]);
    assert.equal(noFile.code, 2, noFile.stderr);
    assert.match(noFile.stderr, /missing\.json/);
  });

  testCleanShutdown(() => demo);
});

// Cool-downs are process-wide: the 429 storm gets a demo of its own.
describe('routing: a 429 storm on the first step of a rule', () => {
  let demo;
  shareDemo(async (d) => {
    demo = d;
    // Reset before each test clears faults: the storm is injected by the first test only.
  });
  let secondId;

  test('the chain fails over: answered by mistral-small-4 after the 429', async () => {
    await emulator.addFault(demo.emulatorUrl,
      { model: 'deepseek-v4-flash', status: 429, retry_after_s: 60, count: 20 });
    const first = await chat(demo.url, { model: 'auto', messages: user(INVOICE) });
    assert.equal(first.status, 200, first.text);
    assert.equal(modelOf(first), 'mistral-small-4');
    assert.equal(routeOf(first), 'profile=auto; rule=cheap-text; task=extraction');
    assert.equal(first.headers.get('x-switchyard-attempts'), '2');
    const firstId = requestIdOf(first);
    const [row] = await ledgerRows(demo.dbPath, [firstId]);
    assert.equal(row.chosen_model, 'mistral-small-4');
    assert.equal(row.attempts_count, 2);
    const attempts = await attemptsOf(demo.dbPath, firstId);
    assert.deepEqual(attempts.map((a) => [a.model, a.http_status, a.error_code, a.outcome]),
      [['deepseek-v4-flash', 429, 'rate_limited', 'failed'], ['mistral-small-4', 200, '', 'ok']]);
  });

  test('the next request skips the cooling model (retry-after 60 s)', async () => {
    // The storm's faults are cleared: deepseek-v4-flash would answer now, were it called.
    const second = await chat(demo.url, { model: 'auto', messages: user(INVOICE) });
    assert.equal(second.status, 200, second.text);
    assert.equal(modelOf(second), 'mistral-small-4');
    assert.equal(second.headers.get('x-switchyard-attempts'), '1', 'the skip is not an attempt');
    assert.deepEqual(await upstreamModelsOf(demo), ['mistral-small-4'],
      'deepseek-v4-flash was not called while cooling');
    secondId = requestIdOf(second);
    const [row] = await ledgerRows(demo.dbPath, [secondId]);
    assert.equal(row.chosen_model, 'mistral-small-4');
    // The rule's order is kept: the cooling model stays first, skipped and recorded.
    assert.match(row.route_reason, /^auto\/cheap-text \[deepseek-v4-flash > mistral-small-4 > /);
    const skipped = await attemptsOf(demo.dbPath, secondId);
    assert.deepEqual(skipped.map((a) => [a.model, a.outcome]),
      [['deepseek-v4-flash', 'skipped'], ['mistral-small-4', 'ok']]);

    // Explain sees the cool-down too: deepseek-v4-flash is kept in its place, marked cooling.
    const ex = await explain(demo.url, { model: 'auto', messages: user(INVOICE) });
    assert.equal(ex.status, 200, ex.text);
    const kept = ex.json.candidates.filter((c) => c.kept);
    assert.equal(kept[0].model, 'deepseek-v4-flash', JSON.stringify(ex.json.candidates));
    assert.match(kept[0].reason, /cooling down for \d+ s: skipped while another candidate remains/);
    assert.equal(kept[1].model, 'mistral-small-4');
  });

  testCleanShutdown(() => demo);
});

// spend --by rule / --by task_type on a ledger holding only these requests: exact counts.
describe('routing: spend by task type and by rule', () => {
  let demo;
  shareDemo((d) => {
    demo = d;
  });

  test('the groups and their counts', async () => {
    const sent = [
      await chat(demo.url, { model: 'auto', messages: user(INVOICE) }),
      await chat(demo.url, { model: 'auto', messages: user(HISTORY) }),
      await chat(demo.url, { model: 'auto', messages: user('Hello there') },
        { headers: { 'x-switchyard-task': 'extraction' } }),
      await chat(demo.url, { model: 'auto', messages: user(MATH) }),
      await chat(demo.url, { model: 'gpt-5.5', messages: user(HISTORY) }),
      await chat(demo.url, { model: 'auto', messages: user(HISTORY) },
        { headers: { 'x-switchyard-task': 'nonsense' } }),
    ];
    assert.deepEqual(sent.map((r) => r.status), [200, 200, 200, 200, 200, 400]);
    await ledgerRows(demo.dbPath, sent.map(requestIdOf));

    const spend = async (by) => {
      const r = await runToExit(['spend', '--db', demo.dbPath, '--by', by, '--format', 'json']);
      assert.equal(r.code, 0, r.stderr);
      const report = JSON.parse(r.stdout);
      assert.equal(report.group_by, by);
      assert.equal(report.total.requests, sent.length);
      return Object.fromEntries(report.groups.map((g) => [g.key, g.requests]));
    };
    assert.deepEqual(await spend('rule'), {
      'auto/cheap-text': 2, 'auto/facts': 1, 'auto/math-and-reasoning': 1, 'model gpt-5.5': 1,
      '(no rule)': 1,
    });
    assert.deepEqual(await spend('task_type'),
      { extraction: 2, factual: 2, math: 1, '(no task type)': 1 });
  });

  testCleanShutdown(() => demo);
});

// `calibration: live`: a share calibrated on the router's training prompts does not hold on
// traffic that scores otherwise; held live, the threshold moves to the quantile of the scores
// the gateway routed. 60 distinct prompts (varied templates) warm it up (the window is 100
// scores, 40 of them sent twice), then go once more: about half of them go to the strong side,
// where the training threshold would send two thirds.
describe('routing: a strong share held on live traffic', () => {
  let served;
  const liveYaml = (o) => `${testConfigYaml(o)}routing:
  profiles:
    auto:
      rules:
        - name: learned
          router: {model: builtin:routellm-gpt4-mixtral, strong: gpt-5.5,
                   weak: deepseek-v4-flash, target_strong_share: 0.5, calibration: live,
                   calibration_window: 100}
    spend:
      rules:
        - name: budget
          router: {model: builtin:routellm-gpt4-mixtral, strong: gpt-5.5,
                   weak: deepseek-v4-flash, budget_usd_per_1k_requests: "0.35",
                   calibration: live, calibration_window: 100}
metrics:
  enabled: true
`;
  shareServe(liveYaml, (s) => { served = s; });

  const subjects = ['a lighthouse', 'compound interest', 'the French Revolution', 'photosynthesis',
    'binary search', 'a rainy Sunday', 'quantum entanglement', 'tax law', 'sourdough bread',
    'plate tectonics', 'the stock market', 'a lost cat'];
  const templates = [
    (s) => `Write a short poem about ${s}.`,
    (s, i) => `What is ${17 * i + 3} times ${29 + i}? Then subtract ${i * i}.`,
    (s) => `Explain ${s} to a ten-year-old in two sentences.`,
    (s, i) => `Prove that for every integer n > ${i}, the sum of the first n odd numbers is n^2, ` +
      `and relate it to ${s}.`,
    (s) => `hi, quick question about ${s}: is it worth learning about?`,
  ];
  const prompts = [];
  for (let i = 0; prompts.length < 60; ++i) {
    prompts.push(templates[i % templates.length](subjects[i % subjects.length], i));
  }
  const verdictOf = (res) => {
    const m = /router=([0-9.]+)(>=|<)([0-9.]+) (strong|weak)$/.exec(routeOf(res) ?? '');
    assert.ok(m, routeOf(res));
    return { score: Number(m[1]), threshold: Number(m[3]), strong: m[4] === 'strong' };
  };
  const send = async (text, model = 'auto') => {
    const res = await chat(served.url, { model, messages: user(text) });
    assert.equal(res.status, 200, res.text);
    assert.equal(modelOf(res), verdictOf(res).strong ? 'gpt-5.5' : 'deepseek-v4-flash');
    return { ...verdictOf(res), id: requestIdOf(res) };
  };
  // Eight at a time (the emulator takes its time to answer), verdicts in the prompts' order.
  const sendAll = async (texts, model = 'auto') => {
    const out = [];
    for (let i = 0; i < texts.length; i += 8) {
      out.push(...await Promise.all(texts.slice(i, i + 8).map((t) => send(t, model))));
    }
    return out;
  };

  test('warm-up keeps the training threshold; then the quantile of the scores served', async () => {
    const body = { model: 'auto', messages: user(prompts[0]) };
    const before = await explain(served.url, body);
    assert.equal(before.status, 200, before.text);
    const start = before.json.router.threshold;
    assert.match(before.json.router.calibration,
      /^target_strong_share 0\.5000, held live over 100 requests$/);
    assert.deepEqual(before.json.router.live, {
      strong_share: 0.5, window: 100, scores_seen: 0, warmed_up: false,
      start_threshold: start,
    });

    // Every request is scored and counted before its calibration may move: all 100 of the
    // warm-up are routed at the training threshold, whatever order they arrive in.
    const warm = await sendAll([...prompts, ...prompts.slice(0, 40)]);
    for (const v of warm) assert.equal(v.threshold, Number(start.toFixed(4)));
    const after = await explain(served.url, body);
    assert.equal(after.json.router.live.scores_seen, 100, 'explain does not count');
    assert.equal(after.json.router.live.warmed_up, true);
    const live = after.json.router.threshold;
    assert.notEqual(live, start);

    // The 60 prompts once more: the share at the live threshold is the target's, give or take
    // the prompts the warm-up counted twice.
    const last = await sendAll(prompts);
    const strong = last.filter((v) => v.strong).length;
    const atStart = last.filter((v) => v.score >= start).length;
    const report = `strong ${strong} of 60 at ${live}; ${atStart} at the training ${start}`;
    assert.ok(strong >= 24 && strong <= 36, report);
    // These prompts score unlike the training ones: held at the training threshold, their
    // share would be further from the target.
    assert.ok(Math.abs(strong - 30) < Math.abs(atStart - 30), report);
    // Every prompt's side follows the threshold in force when it was routed (the header's four
    // decimals cannot order a score and a threshold that print the same).
    for (const v of last.filter((x) => x.score !== x.threshold)) {
      assert.equal(v.strong, v.score > v.threshold, JSON.stringify(v));
    }
  });

  // A budget's share is estimated at start from list prices, the training prompts' length and
  // 500 output tokens; the emulator's answers are far shorter, so both sides cost less and the
  // budget buys a larger strong share. Held live, the mean usage is learned from the requests
  // (the start's estimate counting as 20 of them), priced on both sides, and the share follows.
  test('a live budget prices the traffic\'s own usage and holds the share that spends it',
    async () => {
      const body = { model: 'auto:spend', messages: user(prompts[0]) };
      const before = (await explain(served.url, body)).json.router.live;
      assert.equal(before.mean_usage.output_tokens, 500, JSON.stringify(before));
      assert.ok(before.strong_share < 0.1, JSON.stringify(before));

      const sent = await sendAll([...prompts, ...prompts.slice(0, 40)], 'auto:spend');
      const rows = await ledgerRows(served.dbPath, sent.map((v) => v.id));
      const after = (await explain(served.url, body)).json.router.live;
      // The mean usage: the estimate's 20 requests and the 100 real ones, rounded.
      for (const key of ['input_tokens', 'output_tokens']) {
        const total = rows.reduce((sum, r) => sum + r[key], 0) + 20 * before.mean_usage[key];
        assert.equal(after.mean_usage[key], Math.round(total / 120), key);
      }
      // The share the learned usage buys at these prices (the last recompute saw most of it).
      const [s, w] = ['strong', 'weak'].map((k) => Number(usdToPico(after.request_cost_usd[k])));
      const share = Math.min(1, Math.max(0, (0.35e12 / 1000 - w) / (s - w)));
      const report = JSON.stringify({ before, after, share });
      assert.ok(Math.abs(after.strong_share - share) < 0.1, report);
      // The emulator answers in a tenth of the estimate's 500 output tokens: the budget buys
      // several times the share it seemed to (the estimate's 20 requests still weigh on it).
      assert.ok(after.strong_share > 3 * before.strong_share, report);

      // The same figures at scrape time, to the millionth, and promtool takes them.
      const metrics = await getJson(`${served.url}/metrics`);
      assert.equal(metrics.status, 200);
      const sample = (name, profile, rule) => {
        const line = metrics.text.split('\n')
          .find((l) => l.startsWith(`${name}{profile="${profile}",rule="${rule}"} `));
        return line === undefined ? NaN : Number(line.split(' ')[1]);
      };
      const shown = (await explain(served.url, body)).json.router;
      assert.equal(sample('switchyard_router_strong_share', 'spend', 'budget'),
        Number(shown.live.strong_share.toFixed(6)));
      assert.equal(sample('switchyard_router_threshold', 'spend', 'budget'),
        Number(shown.threshold.toFixed(6)));
      assert.equal(sample('switchyard_router_strong_share', 'auto', 'learned'), 0.5);
      assert.equal((await promtoolCheck(metrics.text)).code, 0);
    });

  testCleanShutdown(() => served);
});
