// `switchyard eval` (issue 22, part 2): the demo suite through the demo gateway under two
// policies, with the emulator's simulated quality profiles; the cost it reports is the ledger's,
// to the pico-dollar; the same seed gives the same result.
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';

import {
  DEFAULT_KEY_ENV, REPO_ROOT, emulator, ledgerSettled, runToExit, sanitizerReports, sqlite,
  startDemo, startEmulator, tempDir, testConfigYaml, usdToPico,
} from '../testutil/harness.mjs';

async function evaluate(args, env = {}) {
  const r = await runToExit(['eval', ...args], { deadlineS: 300, env });
  assert.deepEqual(sanitizerReports(r.stderr), []);
  return r;
}

const byName = (report, name) => report.policies.find((p) => p.name === name);

// cost / passed, rounded half away from zero to the pico-dollar (core::DivideMoney); costs are never negative.
function perSuccess(policy) {
  const passed = BigInt(policy.passed);
  return (usdToPico(policy.cost_usd) + passed / 2n) / passed;
}

describe('switchyard eval on the demo', () => {
  const dir = tempDir('switchyard-eval-');
  let report;
  let svg;

  before(async () => {
    const chart = path.join(dir, 'chart.svg');
    const r = await evaluate(['--policies', 'auto,gpt-5.5', '--format', 'json', '--svg', chart]);
    assert.equal(r.code, 0, r.stderr);
    report = JSON.parse(r.stdout);
    svg = readFileSync(chart, 'utf8');
  });

  test('runs the 100 items under each policy and says which costs least per success', () => {
    assert.deepEqual(report.policies.map((p) => p.name), ['auto', 'gpt-5.5']);
    assert.match(report.note, /^simulated quality/);
    for (const p of report.policies) {
      assert.equal(p.items, 100);
      assert.equal(p.attempts, 100);
      // Every attempt that did not pass is listed with its reason.
      assert.equal(p.failures.length, p.attempts - p.passed);
      for (const f of p.failures) assert.ok(f.item && f.reason, JSON.stringify(f));
      // Probabilistic profiles: neither policy is perfect, both do most of the work.
      assert.ok(p.success_rate > 0.6 && p.success_rate < 1, `${p.name}: ${p.success_rate}`);
      assert.equal(usdToPico(p.cost_per_success_usd), perSuccess(p));
      assert.equal(p.p_success_within_k.length, 3);
      assert.equal(p.p_success_within_k[0], p.success_rate);
      assert.ok(p.p50_ms > 0 && p.p95_ms >= p.p50_ms);
    }
    const auto = byName(report, 'auto');
    const frontier = byName(report, 'gpt-5.5');
    // A fixed model without checks always answers; under auto a grounded answer that computes a
    // figure the context does not state fails the rule's grounded check on every model: a 502.
    assert.equal(frontier.unanswered, 0);
    assert.deepEqual(auto.failures.filter((f) => f.reason.startsWith('HTTP 502')).map((f) => f.item),
      ['grounded-census-growth']);
    // The routed policy answers with several models, the fixed one with one.
    assert.deepEqual(Object.keys(frontier.models), ['gpt-5.5']);
    assert.ok(Object.keys(auto.models).length >= 3, JSON.stringify(auto.models));
    assert.ok(usdToPico(auto.cost_per_success_usd) < usdToPico(frontier.cost_per_success_usd) / 2n,
      `${auto.cost_per_success_usd} vs ${frontier.cost_per_success_usd}`);
    assert.equal(report.cheapest, 'auto');
    // Factual items: 14 in the suite; gpt-5.5 fails some (simulated hallucination).
    assert.ok(frontier.factual_failure_rate > 0 && frontier.factual_failure_rate < 1);
  });

  test('the task-type rows add up to the totals', () => {
    for (const p of report.policies) {
      const sum = (key) => p.task_types.reduce((s, t) => s + t[key], 0);
      assert.equal(sum('items'), p.items);
      assert.equal(sum('passed'), p.passed);
      assert.equal(p.task_types.reduce((s, t) => s + usdToPico(t.cost_usd), 0n), usdToPico(p.cost_usd));
      assert.equal(p.task_types.length, 11);
    }
  });

  test('writes a chart with one point per policy', () => {
    assert.match(svg, /^<svg xmlns="http:\/\/www.w3.org\/2000\/svg"/);
    assert.equal(svg.match(/<circle /g).length, 2);
    assert.match(svg, />auto \(\d+\.\d{4}\)</);
  });

  test('the same seed gives the same outcomes', async () => {
    const r = await evaluate(['--policies', 'auto,gpt-5.5', '--format', 'json']);
    assert.equal(r.code, 0, r.stderr);
    const again = JSON.parse(r.stdout);
    // Not the costs: DeepSeek's off-peak list starts at 16:30 UTC, and a run may straddle it.
    const figures = (rep) => rep.policies.map((p) => [p.name, p.passed, p.models, p.failures,
      p.task_types.map((t) => [t.task_type, t.passed])]);
    assert.deepEqual(figures(again), figures(report));
  });
});

// Twelve items of the demo suite (every emulator knows the demo suite's answers); `plain`: none
// that asks for structured output (the test catalog's models do not declare json_schema).
function writeSmallSuite(dir, { plain = false } = {}) {
  const suite = path.join(dir, 'suite.jsonl');
  const items = readFileSync(path.join(REPO_ROOT, 'config/eval/demo.jsonl'), 'utf8')
    .split('\n').filter((l) => l.startsWith('{') && !(plain && l.includes('"response_format"')));
  writeFileSync(suite, `${items.filter((_, i) => i % 8 === 0).slice(0, 12).join('\n')}\n`);
  return suite;
}

describe('switchyard eval --gateway', () => {
  let demo;
  const suite = writeSmallSuite(tempDir('switchyard-eval-gw-'));

  before(async () => {
    demo = await startDemo();
  });
  after(async () => {
    await demo?.stop();
    demo?.cleanup();
  });

  test('reports what the ledger recorded, every attempt and escalation included', async () => {
    const r = await evaluate(['--gateway', demo.url, '--suite', suite, '--policies', 'auto,economy',
      '--attempts', '2', '--concurrency', '4', '--format', 'json']);
    assert.equal(r.code, 0, r.stderr);
    const rep = JSON.parse(r.stdout);
    assert.equal(rep.attempts_per_item, 2);
    for (const p of rep.policies) assert.equal(p.attempts, 24);
    const n = await ledgerSettled(demo.dbPath, { atLeast: 48 });
    assert.equal(n, 48);
    const [{ pico }] = await sqlite(demo.dbPath,
      'SELECT CAST(SUM(cost_pico) AS TEXT) AS pico FROM requests');
    const reported = rep.policies.reduce((s, p) => s + usdToPico(p.cost_usd), 0n);
    assert.equal(reported, BigInt(pico));
    // P(success within k) grows with k and stays a probability.
    for (const p of rep.policies) {
      const [k1, k2, k3] = p.p_success_within_k;
      assert.ok(k1 <= k2 && k2 <= k3 && k3 <= 1, JSON.stringify(p.p_success_within_k));
    }
  });

  test('sends the items in the dialect the application speaks', async () => {
    for (const [dialect, endpoint] of [['anthropic', '/v1/messages'], ['responses', '/v1/responses']]) {
      const before = await ledgerSettled(demo.dbPath);
      const r = await evaluate(['--gateway', demo.url, '--suite', suite, '--policies', 'auto',
        '--dialect', dialect, '--format', 'json']);
      assert.equal(r.code, 0, r.stderr);
      const [auto] = JSON.parse(r.stdout).policies;
      assert.equal(JSON.parse(r.stdout).dialect, dialect);
      // Structured-output items included: their answers are read from the dialect's own shape.
      assert.ok(auto.success_rate > 0.6, JSON.stringify(auto.failures));
      assert.equal(auto.failures.filter((f) => /unreadable|HTTP 4/.test(f.reason)).length, 0,
        JSON.stringify(auto.failures));
      await ledgerSettled(demo.dbPath, { atLeast: before + 12 });
      const rows = await sqlite(demo.dbPath,
        `SELECT endpoint, COUNT(*) AS n FROM requests WHERE rowid > ${before} GROUP BY endpoint`);
      assert.deepEqual(rows, [{ endpoint, n: 12 }]);
    }
  });

  test('prints a table with the verdict', async () => {
    const r = await evaluate(['--gateway', demo.url, '--suite', suite, '--policies', 'gpt-5.5',
      '--min-success', '0.5']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^suite .*suite\.jsonl: 12 items, 1 attempt each\n/);
    assert.match(r.stdout, /lowest cost per successful task among policies with at least 50\.0% success: gpt-5\.5, \d+\.\d{4} USD per 1,000/);
    // Not a terminal: no progress bar.
    assert.doesNotMatch(r.stderr, /\[#/);
  });
});

describe('switchyard eval --config', () => {
  let emu;
  const dir = tempDir('switchyard-eval-config-');
  const suite = writeSmallSuite(dir, { plain: true });

  before(async () => {
    emu = await startEmulator();
  });
  after(async () => {
    await emu?.stop();
  });

  test('starts serve on the file for the run; a quality profile decides the outcome', async () => {
    const config = path.join(dir, 'switchyard.yaml');
    writeFileSync(config, `${testConfigYaml({ emulatorUrl: emu.url, dbPath: path.join(dir, 'l.db') })}
auth:
  mode: "off"
`);
    // A perfect cheap model: every item passes on the first model of the chain.
    await emulator.setProfile(emu.url, 'deepseek-v4-flash', { quality: { default: 1 } });
    const r = await evaluate(['--config', config, '--suite', suite, '--policies', 'economy',
      '--format', 'json'], { [DEFAULT_KEY_ENV]: 'sk-test' });
    assert.equal(r.code, 0, r.stderr);
    const rep = JSON.parse(r.stdout);
    assert.equal(rep.note, undefined);
    const [economy] = rep.policies;
    assert.equal(economy.passed, 12, JSON.stringify(economy.failures));
    assert.deepEqual(economy.models, { 'deepseek-v4-flash': 12 });
  });
});

describe('switchyard eval refuses bad input', () => {
  const dir = tempDir('switchyard-eval-bad-');

  test('a suite whose answer fails its own checker, naming the line', async () => {
    const suite = path.join(dir, 'bad.jsonl');
    writeFileSync(suite, '# one item\n{"id":"a","task_type":"math","messages":[{"role":"user",'
      + '"content":"1+1?"}],"checker":{"type":"exact","value":"2"},"answer":"3"}\n');
    const r = await evaluate(['--suite', suite, '--policies', 'auto']);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /bad\.jsonl:2: "answer" fails its own checker: expected "2", got "3"/);
  });

  test('conflicting or out-of-range options', async () => {
    for (const [args, message] of [
      [['--gateway', 'http://127.0.0.1:1', '--config', 'x.yaml'], /--gateway or --config, not both/],
      [['--attempts', '0'], /--attempts: 1 to 100/],
      [['--min-success', '1.5'], /--min-success: a share from 0 to 1/],
      [['--gateway', 'localhost:8080'], /--gateway: an http/],
      [['--api-key-env', 'SWITCHYARD_EVAL_NO_SUCH_VAR'], /SWITCHYARD_EVAL_NO_SUCH_VAR is not set/],
    ]) {
      const r = await evaluate(['--policies', 'auto', ...args]);
      assert.equal(r.code, 2, args.join(' '));
      assert.match(r.stderr, message);
    }
  });
});
