// `switchyard plan` (issue 22, part 1): a workload priced under several policies on the demo
// catalog, every figure an exact string checked by hand; and --from-ledger, where the recorded
// total equals the sum of the cost headers the clients got and each re-priced total equals the
// ledger rows' usage at the policy's list price, to the pico-dollar.
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';

import {
  chat, decimalToUnits, runToExit, sanitizerReports, sqlite, startDemo, tempDir, usdToPico,
  userMessage,
} from '../testutil/harness.mjs';

// An *_exact_usd amount (a plain decimal, at most 24 decimals) -> BigInt in 1e-24 USD.
function usdToYocto(text) {
  assert.match(String(text), /^-?\d+(\.\d{1,24})?$/, `not an exact decimal: ${text}`);
  return decimalToUnits(text, 24);
}

async function plan(args) {
  const r = await runToExit(['plan', ...args]);
  assert.deepEqual(sanitizerReports(r.stderr), []);
  return r;
}

const byName = (report, name) => report.policies.find((p) => p.name === name);

describe('switchyard plan --workload', () => {
  const dir = tempDir('switchyard-plan-');
  const workload = path.join(dir, 'workload.yaml');
  writeFileSync(workload, `
buckets:
  - {name: repetitive, input_tokens: 100000000, output_tokens: 20000000}
  - {name: hard, input_tokens: 30000000, output_tokens: 10000000}
  - name: chat
    calls_per_day: 1000000
    days: 30
    input_tokens_per_call: 1000
    output_tokens_per_call: 500
    off_peak_share: 0.5
    samples:
      - "Extract the invoice number and the total from: Invoice #4411, total due $1,250.00"
      - "Classify this ticket as billing, bug or feature: the export button crashes"
policies:
  - {name: all-frontier, models: {"*": gpt-5.5}}
  - {name: cheap, models: {repetitive: deepseek-v4-flash, hard: gpt-5.5, chat: auto}}
`);

  test('prices every policy exactly, with savings against the first', async () => {
    const r = await plan(['--workload', workload, '--policy', 'pro=repetitive:deepseek-v4-pro,gpt-5.5',
      '--format', 'json']);
    assert.equal(r.code, 0, r.stderr);
    const report = JSON.parse(r.stdout);
    // all-frontier: 1550.00 (issue) + chat 30B x 5 + 15B x 30 = 600000.00 (no off-peak list).
    assert.equal(byName(report, 'all-frontier').total_usd, '601550.00');
    // cheap: 469.60 (issue) + chat routed by auto; extraction and classification go to the
    // cheapest model, deepseek-v4-flash, half of it off-peak: 0.5 x 8400 + 0.5 x 4200.
    const cheap = byName(report, 'cheap');
    const chat = cheap.buckets.find((b) => b.name === 'chat');
    assert.deepEqual(chat.models.map((m) => [m.model, m.samples]), [['deepseek-v4-flash', 2]]);
    assert.equal(chat.cost_usd, '6300.00');
    assert.equal(cheap.total_usd, '6769.60');
    assert.equal(cheap.savings_usd, '594780.40');
    assert.equal(cheap.savings_percent, '98.9');
    // pro: 693.60 (issue) + chat on gpt-5.5.
    assert.equal(byName(report, 'pro').total_usd, '600693.60');
    assert.match(byName(report, 'all-frontier').buckets[2].notes[0], /gpt-5\.5 has no off-peak list/);
  });

  test('table and markdown carry the same totals; --self-host adds the break-even', async () => {
    const table = await plan(['--workload', workload, '--self-host', '8,2.50,2400']);
    assert.equal(table.code, 0, table.stderr);
    assert.match(table.stdout, /^cheap\s+6769\.60\s+594780\.40\s+98\.9$/m);
    assert.match(table.stdout, /14600\.00 USD a month/);
    const md = await plan(['--workload', workload, '--format', 'markdown']);
    assert.equal(md.code, 0, md.stderr);
    assert.match(md.stdout, /^\| cheap \| 6769\.60 \| 594780\.40 \| 98\.9 \|$/m);
  });

  test('errors exit 2 naming the cause', async () => {
    const unknown = await plan(['--workload', workload, '--policy', 'x=kimi-k9']);
    assert.equal(unknown.code, 2);
    assert.match(unknown.stderr, /policy x, bucket repetitive: "kimi-k9" is not a model/);
    const bad = path.join(dir, 'bad.yaml');
    writeFileSync(bad, 'buckets: [{name: a, input_tokens: 1, output_tokens: 1, off_peak_share: 2}]\n');
    const invalid = await plan(['--workload', bad]);
    assert.equal(invalid.code, 2);
    assert.match(invalid.stderr, /buckets\[0\]\.off_peak_share: "2" is not a share from 0 to 1/);
  });
});

describe('switchyard plan --from-ledger', () => {
  let demo;
  let rows;
  let headerPico = 0n;
  before(async () => {
    demo = await startDemo();
    const prompts = ['Extract the total from: Invoice 4411, total 1250 USD',
      'Write a Python function that reverses a list', 'Tell me a short story about a fox'];
    for (const model of ['auto', 'gpt-5.5', 'economy', 'claude-opus-4.7']) {
      for (const prompt of prompts) {
        const res = await chat(demo.url, { model, messages: userMessage(prompt) });
        assert.equal(res.status, 200, res.text);
        headerPico += usdToPico(res.headers.get('x-switchyard-cost-usd'));
      }
    }
    await demo.stop();
    rows = await sqlite(demo.dbPath,
      'SELECT task_type, input_tokens, cached_input_tokens, output_tokens FROM requests');
  });
  after(() => demo?.cleanup());

  // pico-dollars of a row at a list without a cached price: tokens x micro-USD per million.
  const atList = (row, input, output) => BigInt(row.input_tokens) * input
    + BigInt(row.output_tokens) * output;

  test('the recorded cost equals the cost headers; re-priced policies equal the rows at list', async () => {
    assert.equal(rows.length, 12);
    const r = await plan(['--from-ledger', demo.dbPath, '--policy', 'gpt-5.5',
      '--policy', 'mixed=code:deepseek-v4-flash,claude-opus-4.7', '--format', 'json']);
    assert.equal(r.code, 0, r.stderr);
    const report = JSON.parse(r.stdout);
    assert.deepEqual(report.policies.map((p) => p.name), ['recorded', 'gpt-5.5', 'mixed']);
    const yocto = (pico) => pico * 10n ** 12n;
    assert.equal(usdToYocto(byName(report, 'recorded').total_exact_usd), yocto(headerPico));
    const gpt = rows.reduce((a, row) => a + atList(row, 5_000_000n, 30_000_000n), 0n);
    assert.equal(usdToYocto(byName(report, 'gpt-5.5').total_exact_usd), yocto(gpt));
    // code on V4-Flash (standard or off-peak by the request's time: take the ledger's own
    // clock from the report's code bucket), everything else on Opus 4.7 at 5 / 25.
    const mixed = byName(report, 'mixed');
    const others = rows.filter((row) => row.task_type !== 'code')
      .reduce((a, row) => a + atList(row, 5_000_000n, 25_000_000n), 0n);
    const code = mixed.buckets.find((b) => b.name === 'code');
    assert.equal(code.models[0].model, 'deepseek-v4-flash');
    const codeRows = rows.filter((row) => row.task_type === 'code');
    const standard = codeRows.reduce((a, row) => a + atList(row, 140_000n, 280_000n), 0n);
    const offPeak = codeRows.reduce((a, row) => a + atList(row, 70_000n, 140_000n), 0n);
    assert.ok([standard, offPeak].map(yocto).includes(usdToYocto(code.cost_exact_usd)),
      `code bucket ${code.cost_exact_usd}`);
    assert.equal(usdToYocto(mixed.total_exact_usd), yocto(others) + usdToYocto(code.cost_exact_usd));
  });

  test('a routing profile cannot be priced from the ledger', async () => {
    const r = await plan(['--from-ledger', demo.dbPath, '--policy', 'auto']);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /auto is a routing profile, and the ledger keeps no prompts/);
  });
});
