// Two gateway replicas recording into one PostgreSQL ledger (database.url): every row from both
// is there once, and the total cost equals the sum of the x-switchyard-cost-usd headers to the
// pico-dollar. PostgreSQL is stopped for 10 s under load and restarted: the replicas spill, then
// replay; no row is lost or doubled, and the spill shows in /metrics. Spend, feedback and
// outcomes on either replica read the shared ledger. Client keys live in the same database: a
// key created through one replica works on the other, and one revoked through one replica is
// refused by the other within a second; `switchyard keys --db postgresql://...` writes them too.
// Stored responses are shared too: a Responses conversation continues on either replica.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import path from 'node:path';
import { rmSync, writeFileSync } from 'node:fs';

import {
  ADMIN_TOKEN_ENV, CLIENT_KEY_RE, DEFAULT_KEY_ENV, adminApi, bearer, chat, emulator, getJson,
  keysConfigYaml, modelRequests, parseMetrics, pollUntil, postJson, runToExit, sanitizerReports,
  startEmulator, startServe, streamChat, sumSamples, tempDir, testConfigYaml, usdToPico,
  userMessage,
} from '../testutil/harness.mjs';
import { startPostgres } from '../testutil/pg.mjs';

describe('two replicas on one PostgreSQL ledger', () => {
  let pg;
  let emu;
  const replicas = [];
  const dirs = [];
  const sent = new Map();  // request id -> pico-dollars from the cost header

  before(async () => {
    pg = await startPostgres();
    emu = await startEmulator();
    for (let i = 0; i < 2; i++) {
      dirs.push(tempDir());
      replicas.push(await restartReplica(i));
    }
  });

  // Replica i on its own state directory; the URL comes from the environment, as an operator
  // would pass a password.
  async function restartReplica(i) {
    const yaml = `${testConfigYaml({ emulatorUrl: emu.url, dbPath: path.join(dirs[i], 'ledger.db') })}
database:
  url: "\${SWITCHYARD_DATABASE_URL}"
  connect_timeout_s: 2
`;
    return startServe(yaml, { env: { SWITCHYARD_DATABASE_URL: pg.url } });
  }
  after(async () => {
    for (const r of replicas) {
      await r.stop();
      r.cleanup();
    }
    await emu?.stop();
    await pg?.cleanup();
    for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
  });

  async function send(i) {
    const url = replicas[i % 2].url;
    if (i % 5 === 4) {
      const res = await streamChat(url, {
        model: 'economy', stream: true, stream_options: { include_usage: true },
        messages: userMessage(`stream ${i}`),
      });
      assert.equal(res.status, 200, res.raw);
      const cost = res.events.find((e) => e.json?.usage)?.json.usage.cost_usd;
      sent.set(res.headers['x-switchyard-request-id'], usdToPico(cost));
      return res.headers['x-switchyard-request-id'];
    }
    const res = await chat(url, { model: i % 3 ? 'economy' : 'gpt-5.5', messages: userMessage(`q ${i}`) });
    assert.equal(res.status, 200);
    sent.set(res.headers.get('x-switchyard-request-id'), usdToPico(res.headers.get('x-switchyard-cost-usd')));
    return res.headers.get('x-switchyard-request-id');
  }

  test('PostgreSQL down for 10 s under load: answers go on, rows are spilled and replayed', async () => {
    let i = 0;
    for (; i < 40; i++) await send(i);
    await pg.stop();
    const downUntil = Date.now() + 10_000;
    while (Date.now() < downUntil) await send(i++);
    const spilledWhileDown = await spilledTotal();
    assert.ok(spilledWhileDown > 0n, 'the replicas spilled while PostgreSQL was down');
    await pg.restart();
    for (const end = i + 40; i < end; i++) await send(i);
    // Both replicas stop cleanly (SIGTERM writes what is queued, the spill included).
    for (const r of replicas) {
      const result = await r.stop();
      assert.deepEqual(sanitizerReports(result.stderr), []);
      assert.equal(result.code, 0, result.stderr);
      assert.doesNotMatch(result.stderr, /LOST/);
    }

    const rows = Number(await pg.query('SELECT count(*) FROM requests'));
    const distinct = Number(await pg.query('SELECT count(DISTINCT request_id) FROM requests'));
    assert.equal(rows, sent.size, 'one row per answered request');
    assert.equal(distinct, sent.size, 'no row doubled');
    const ids = (await pg.query('SELECT request_id FROM requests')).split('\n');
    assert.deepEqual(new Set(ids), new Set(sent.keys()));
    const total = [...sent.values()].reduce((a, b) => a + b, 0n);
    assert.equal(BigInt(await pg.query('SELECT sum(cost_pico) FROM requests')), total);
    assert.equal(BigInt(await pg.query('SELECT sum(cost_pico) FROM attempts')), total);

    // `switchyard spend` on the PostgreSQL ledger: the same total, to the pico-dollar.
    const cli = await runToExit(['spend', '--db', pg.url, '--by', 'model', '--format', 'json']);
    assert.equal(cli.code, 0, cli.stderr);
    const report = JSON.parse(cli.stdout);
    assert.equal(report.total.requests, sent.size);
    assert.equal(usdToPico(report.total.cost_usd), total);
  });

  test('spend, feedback and outcomes on either replica read the shared ledger', async () => {
    for (const i of [0, 1]) {
      replicas[i].cleanup();  // stopped by the test before
      replicas[i] = await restartReplica(i);
    }
    // Answered by replica 1, rated on replica 0: once replica 1's writer has committed the row
    // (its flush interval), replica 0 finds it in the shared ledger.
    const id = await send(1);
    const rated = await pollUntil(async () => {
      const res = await fetch(`${replicas[0].url}/v1/feedback`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ request_id: id, outcome: 'success', score: 0.9 }),
      });
      return res.status === 201 ? res.json() : undefined;
    });
    assert.equal(rated.request_id, id);

    const expected = [...sent.values()].reduce((a, b) => a + b, 0n);
    for (const r of replicas) {
      const spend = await fetch(`${r.url}/v1/spend?by=day`);
      assert.equal(spend.status, 200);
      const body = await spend.json();
      assert.equal(body.total.requests, sent.size);
      assert.equal(usdToPico(body.total.cost_usd), expected);
      const outcomes = await fetch(`${r.url}/v1/outcomes?by=model`);
      assert.equal(outcomes.status, 200);
      const report = await outcomes.json();
      assert.equal(report.total.rated, 1);
      assert.equal(report.total.successes, 1);
    }
  });

  // Stored responses live in the shared database: turns alternate between the replicas, JSON and
  // streamed, and each replica finds what the other stored (and deleted).
  test('a Responses conversation continues across replicas; GET and DELETE on either', async () => {
    await emulator.clearRequests(emu.url);
    let previous;
    const ids = [];
    for (let turn = 1; turn <= 4; ++turn) {
      const url = replicas[turn % 2].url;
      const body = { model: 'gpt-5.5', input: `Turn ${turn}: go on.`, previous_response_id: previous };
      if (turn % 2) {
        const res = await postJson(`${url}/v1/responses`, body);
        assert.equal(res.status, 200, `turn ${turn}: ${res.text}`);
        assert.equal(res.json.previous_response_id ?? undefined, previous);
        previous = res.json.id;
      } else {
        const res = await streamChat(url, { ...body, stream: true }, { path: '/v1/responses' });
        assert.equal(res.status, 200, `turn ${turn}: ${res.raw}`);
        const done = res.events.find((e) => e.event === 'response.completed');
        assert.ok(done, res.raw);
        previous = done.json.response.id;
      }
      ids.push(previous);
    }
    // The last turn's upstream call carried the whole conversation: 4 inputs and 3 answers.
    const last = modelRequests(await emulator.requests(emu.url)).at(-1);
    const roles = last.body.messages.filter((m) => m.role === 'user' || m.role === 'assistant');
    assert.equal(roles.length, 7, JSON.stringify(last.body.messages));
    assert.equal(await pg.query('SELECT count(*) FROM responses'), '4');

    const got = await getJson(`${replicas[0].url}/v1/responses/${ids[1]}`);  // stored by 0's peer
    assert.equal(got.status, 200, got.text);
    assert.equal(got.json.id, ids[1]);
    const removed = await fetch(`${replicas[1].url}/v1/responses/${ids[0]}`, { method: 'DELETE' });
    assert.equal(removed.status, 200);
    const gone = await getJson(`${replicas[0].url}/v1/responses/${ids[0]}`);
    assert.equal(gone.status, 404, gone.text);
  });

  async function spilledTotal() {
    let total = 0n;
    for (const r of replicas) {
      const res = await fetch(`${r.url}/metrics`);
      total += sumSamples(parseMetrics(await res.text()), 'switchyard_ledger_records_spilled_total');
    }
    return total;
  }
});

describe('client keys shared by two replicas on one PostgreSQL database', () => {
  const ADMIN = `admin-${randomBytes(16).toString('hex')}`;
  const PEPPER = `pepper-${randomBytes(16).toString('hex')}`;
  let pg;
  let emu;
  const replicas = [];
  const dirs = [];
  const ping = { model: 'deepseek-v4-flash', max_tokens: 8, messages: userMessage('ping') };
  const status = async (i, key) => (await chat(replicas[i].url, ping, { headers: bearer(key) })).status;

  before(async () => {
    pg = await startPostgres();
    emu = await startEmulator();
    for (let i = 0; i < 2; i++) {
      dirs.push(tempDir());
      const yaml = `${keysConfigYaml({ emulatorUrl: emu.url, dbPath: path.join(dirs[i], 'ledger.db') })}
database:
  url: "\${SWITCHYARD_DATABASE_URL}"
  connect_timeout_s: 2
`;
      // Every replica gets the same pepper, from the environment (database.url requires it).
      replicas.push(await startServe(yaml, {
        env: { SWITCHYARD_DATABASE_URL: pg.url, [ADMIN_TOKEN_ENV]: ADMIN, SWITCHYARD_KEY_PEPPER: PEPPER },
      }));
    }
  });
  after(async () => {
    for (const r of replicas) {
      const result = await r.stop();
      assert.deepEqual(sanitizerReports(result.stderr), []);
      r.cleanup();
    }
    await emu?.stop();
    await pg?.cleanup();
    for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
  });

  test('a key created on one replica works on the other; revoked there, refused here within 1 s', async () => {
    const key = await adminApi(replicas[0].url, ADMIN).create({ tenant: 'acme', name: 'shared' });
    assert.match(key.key, CLIENT_KEY_RE);
    assert.equal(await status(0, key.key), 200);
    const seen = await pollUntil(async () => (await status(1, key.key)) === 200,
      { timeoutMs: 2000, intervalMs: 20 });
    assert.ok(seen, 'the other replica accepted the key within 2 s');
    const listed = await adminApi(replicas[1].url, ADMIN).get('/admin/keys?tenant=acme');
    assert.deepEqual(listed.json.data.map((k) => k.id), [key.id]);

    const revoked = await adminApi(replicas[1].url, ADMIN).del(`/admin/keys/${key.id}`);
    assert.equal(revoked.status, 200, revoked.text);
    assert.equal(revoked.json.status, 'revoked');
    const t0 = performance.now();
    const refused = await pollUntil(async () => (await status(0, key.key)) === 401,
      { timeoutMs: 3000, intervalMs: 20 });
    const elapsed = performance.now() - t0;
    assert.ok(refused, 'the first replica refused the revoked key');
    assert.ok(elapsed < 1000, `refused ${Math.round(elapsed)} ms after the revocation`);
    assert.equal(await status(1, key.key), 401);
    assert.equal(await pg.query(`SELECT count(*) FROM client_keys WHERE revoked_at_ms IS NOT NULL`), '1');
  });

  test('switchyard keys --db postgresql://... needs the replicas\' pepper and writes what they read', async () => {
    // A config without database.url: --db alone picks the PostgreSQL keys.
    const configPath = path.join(dirs[0], 'cli.yaml');
    writeFileSync(configPath, keysConfigYaml({ emulatorUrl: emu.url, dbPath: path.join(dirs[0], 'cli.db') }));
    const env = { [DEFAULT_KEY_ENV]: 'sk-test-upstream' };
    const args = ['keys', 'create', '--config', configPath, '--db', pg.url, '--tenant', 'cli-team'];
    const unpeppered = await runToExit(args, { env });
    assert.equal(unpeppered.code, 2, unpeppered.stderr);
    assert.match(unpeppered.stderr, /auth\.pepper_env: .*SWITCHYARD_KEY_PEPPER/);

    const created = await runToExit(args, { env: { ...env, SWITCHYARD_KEY_PEPPER: PEPPER } });
    assert.equal(created.code, 0, created.stderr);
    const key = JSON.parse(created.stdout);
    assert.match(key.key, CLIENT_KEY_RE);
    for (const i of [0, 1]) {
      const ok = await pollUntil(async () => (await status(i, key.key)) === 200,
        { timeoutMs: 2000, intervalMs: 20 });
      assert.ok(ok, `replica ${i} accepted the CLI's key`);
    }
    const listed = await runToExit(['keys', 'list', '--config', replicas[1].configPath, '--tenant', 'cli-team'],
      { env: { ...env, SWITCHYARD_DATABASE_URL: pg.url, SWITCHYARD_KEY_PEPPER: PEPPER } });
    assert.equal(listed.code, 0, listed.stderr);
    assert.deepEqual(JSON.parse(listed.stdout).data.map((k) => k.id), [key.id]);
  });
});
