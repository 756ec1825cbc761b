// Every request leaves exactly one ledger row (failures included), SIGTERM flushes them, and
// `switchyard spend` totals equal the sum of the cost headers, exactly and to the cent.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';

import {
  DECIMAL_RE, chat, emulator, picoToCents, runToExit, sanitizerReports, sqlite, startDemo,
  streamChat, usdToPico, userMessage,
} from '../testutil/harness.mjs';

describe('ledger and spend', () => {
  let demo;
  let stopResult;
  const sent = [];  // {id, task, status, model, pico}
  before(async () => {
    demo = await startDemo();
  });
  after(async () => {
    if (demo) {
      await demo.stop();
      demo.cleanup();
    }
  });

  const add = (id, task, status, model, costText) => {
    assert.ok(id, 'every answer carries x-switchyard-request-id');
    sent.push({ id, task, status, model, pico: costText === undefined ? 0n : usdToPico(costText) });
  };

  async function nonStream(model, task, body = {}) {
    const headers = task ? { 'x-switchyard-task-id': task } : {};
    const res = await chat(demo.url, { model, messages: userMessage(`hello from ${task}`), ...body },
      { headers });
    const cost = res.headers.get('x-switchyard-cost-usd') ?? undefined;
    if (res.status === 200) assert.match(cost ?? '', DECIMAL_RE);
    add(res.headers.get('x-switchyard-request-id'), task, res.status,
      res.headers.get('x-switchyard-model') ?? '', cost);
    return res;
  }

  async function stream(model, task) {
    const res = await streamChat(demo.url, {
      model, stream: true, stream_options: { include_usage: true }, messages: userMessage(task),
    }, { headers: task ? { 'x-switchyard-task-id': task } : {} });
    assert.equal(res.status, 200, res.raw);
    const usage = res.events.find((e) => e.json?.usage)?.json.usage;
    assert.match(usage?.cost_usd ?? '', DECIMAL_RE);
    assert.equal(res.trailers['x-switchyard-cost-usd'], usage.cost_usd);
    add(res.headers['x-switchyard-request-id'], task, 200, res.headers['x-switchyard-model'],
      usage.cost_usd);
  }

  test('a mix of successes and failures with task ids', async () => {
    await emulator.reset(demo.emulatorUrl);
    const models = ['economy', 'gpt-5.5', 'gemini-3.1-pro', 'deepseek-v4-pro', 'kimi-k2.6',
      'llama-4-maverick', 'gpt-5.5-pro'];
    const tasks = ['summarise', 'classify', undefined];
    let i = 0;
    for (const model of models) {
      for (const task of tasks) {
        const res = await nonStream(model, task, { max_tokens: 16 + (i++ % 7) });
        assert.equal(res.status, 200, `${model}: ${res.text}`);
      }
    }
    await stream('economy', 'summarise');
    await stream('gpt-5.5', 'classify');
    await stream('deepseek-v4-pro', undefined);
    // Failures: unknown model, bad JSON, wrong type, a 502 after all candidates fail, a bad task id.
    assert.equal((await nonStream('no-such-model', 'summarise')).status, 404);
    const badJson = await chat(demo.url, '{"model":', { headers: { 'x-switchyard-task-id': 'classify' } });
    assert.equal(badJson.status, 400);
    add(badJson.headers.get('x-switchyard-request-id'), 'classify', 400, '', undefined);
    assert.equal((await nonStream('economy', 'summarise', { messages: 'hi' })).status, 400);
    for (const model of ['deepseek-v4-flash', 'kimi-k2.6', 'gpt-5.5']) {
      await emulator.addFault(demo.emulatorUrl, { model, status: 500, count: 10 });
    }
    assert.equal((await nonStream('economy', 'classify')).status, 502);
    await emulator.clearFaults(demo.emulatorUrl);
    // A 200 after the failures, so the last request before SIGTERM is a billed one.
    assert.equal((await nonStream('gpt-5.5', 'summarise')).status, 200);
    assert.ok(sent.length >= 25);
  });

  test('SIGTERM right after the last answer: exit 0 and exactly one row per request', async () => {
    stopResult = await demo.stop();
    assert.deepEqual(sanitizerReports(stopResult.stderr), []);
    assert.equal(stopResult.code, 0, stopResult.stderr);
    const rows = await sqlite(demo.dbPath, 'SELECT request_id, task_id, status, chosen_model, cost_usd, cost_pico FROM requests');
    assert.equal(rows.length, sent.length, `ledger rows ${rows.length}, requests ${sent.length}`);
    const byId = new Map(rows.map((r) => [r.request_id, r]));
    const mismatches = [];
    for (const s of sent) {
      const row = byId.get(s.id);
      if (!row) {
        mismatches.push(`${s.id}: no row`);
        continue;
      }
      const want = { status: s.status, task_id: s.task ?? '',
        chosen_model: s.status === 200 ? s.model : '', cost_pico: s.pico };
      const got = { status: row.status, task_id: row.task_id, chosen_model: row.chosen_model,
        cost_pico: BigInt(row.cost_pico) };
      for (const k of Object.keys(want)) {
        if (want[k] !== got[k]) {
          mismatches.push(`${s.id} (HTTP ${s.status}) ${k}: want ${JSON.stringify(String(want[k]))}, got ${JSON.stringify(String(got[k]))}`);
        }
      }
      if (usdToPico(row.cost_usd) !== s.pico) mismatches.push(`${s.id}: cost_usd ${row.cost_usd}`);
    }
    assert.deepEqual(mismatches, []);
  });

  const sum = (list) => list.reduce((a, s) => a + s.pico, 0n);

  async function spend(by) {
    const r = await runToExit(['spend', '--db', demo.dbPath, '--by', by, '--format', 'json']);
    assert.equal(r.code, 0, r.stderr);
    return JSON.parse(r.stdout);
  }

  test('spend --by model: totals equal the cost headers, exactly and to the cent', async () => {
    const report = await spend('model');
    assert.equal(report.group_by, 'model');
    const total = sum(sent);
    assert.ok(total > 0n);
    assert.equal(usdToPico(report.total.cost_usd), total,
      `total ${report.total.cost_usd} vs headers ${total} pico`);
    assert.equal(report.total.cost_cents, picoToCents(total));
    assert.equal(report.total.requests, sent.length);
    assert.equal(report.total.failed, sent.filter((s) => s.status !== 200).length);
    const groups = new Map(report.groups.map((g) => [g.key, g]));
    for (const model of new Set(sent.filter((s) => s.status === 200).map((s) => s.model))) {
      const mine = sent.filter((s) => s.status === 200 && s.model === model);
      assert.equal(usdToPico(groups.get(model)?.cost_usd ?? 'x'), sum(mine), `model ${model}`);
      assert.equal(groups.get(model).requests, mine.length, `requests of ${model}`);
    }
    assert.equal(report.groups.reduce((a, g) => a + usdToPico(g.cost_usd), 0n), total);
  });

  test('spend --by task: per-task totals equal the cost headers', async () => {
    const report = await spend('task');
    const groups = new Map(report.groups.map((g) => [g.key, g]));
    for (const task of ['summarise', 'classify', undefined]) {
      const mine = sent.filter((s) => s.task === task);
      const key = task ?? '(no task)';
      assert.ok(groups.has(key), `group ${key} in ${JSON.stringify([...groups.keys()])}`);
      assert.equal(usdToPico(groups.get(key).cost_usd), sum(mine), `task ${key}`);
      assert.equal(groups.get(key).requests, mine.length, `requests of ${key}`);
      assert.equal(groups.get(key).cost_cents, picoToCents(sum(mine)));
    }
    assert.equal(usdToPico(report.total.cost_usd), sum(sent));
  });

  for (const [by, none] of [['task_type', '(no task type)'], ['rule', '(no rule)']]) {
    test(`spend --by ${by}: groups partition the requests, totals equal the cost headers`, async () => {
      const report = await spend(by);
      assert.equal(report.group_by, by);
      const keys = report.groups.map((g) => g.key);
      assert.equal(new Set(keys).size, keys.length, `keys unique: ${JSON.stringify(keys)}`);
      assert.equal(report.groups.reduce((a, g) => a + g.requests, 0), sent.length);
      assert.equal(report.groups.reduce((a, g) => a + usdToPico(g.cost_usd), 0n), sum(sent));
      assert.equal(usdToPico(report.total.cost_usd), sum(sent));
      assert.equal(report.total.cost_cents, picoToCents(sum(sent)));
      // Requests refused before routing (unknown model, bad JSON, wrong type) are not routed.
      const refused = sent.filter((s) => s.status === 400 || s.status === 404).length;
      assert.ok(refused >= 3);
      const unrouted = report.groups.find((g) => g.key === none);
      assert.ok(unrouted && unrouted.requests >= refused, `${none} in ${JSON.stringify(keys)}`);
    });
  }

  test('spend --by day: one UTC day, total equals the cost headers', async () => {
    const report = await spend('day');
    assert.ok(report.groups.length >= 1 && report.groups.length <= 2, 'today (maybe across midnight)');
    for (const g of report.groups) assert.match(g.key, /^\d{4}-\d{2}-\d{2}$/);
    assert.equal(report.groups.reduce((a, g) => a + usdToPico(g.cost_usd), 0n), sum(sent));
    assert.equal(usdToPico(report.total.cost_usd), sum(sent));
    assert.equal(report.total.cost_cents, picoToCents(sum(sent)));
  });

  test('spend --format table has a TOTAL line with the exact cost', async () => {
    const r = await runToExit(['spend', '--db', demo.dbPath, '--by', 'model', '--format', 'table']);
    assert.equal(r.code, 0, r.stderr);
    const totalLine = r.stdout.split('\n').find((l) => /^\s*TOTAL\b/.test(l));
    assert.ok(totalLine, r.stdout);
    const json = await spend('model');
    assert.ok(totalLine.split(/\s+/).includes(json.total.cost_usd), totalLine);
  });

  test('spend on a missing db exits non-zero naming the path', async () => {
    const r = await runToExit(['spend', '--db', '/nonexistent/ledger.db', '--by', 'model']);
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /\/nonexistent\/ledger\.db/);
  });
});
