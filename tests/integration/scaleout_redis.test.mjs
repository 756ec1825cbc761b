// Two gateway replicas sharing client keys (PostgreSQL) and their budgets and rate limits (Redis,
// shared_state.redis_url): a tenant's daily budget stops both at the limit, within one request's
// cost per replica; a rate limit holds across them; a retry-after met by one replica keeps the
// other off that deployment (shared health); an answer cached by one is a hit on the other (the
// response cache in Redis); with Redis stopped, the fail_open replica
// decides on its own counters while the fail_closed one answers 503 in the client's dialect, and
// both recover by themselves when Redis is back. Every answered request is in the shared ledger
// at the cost its header showed.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { rmSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';

import {
  ADMIN_TOKEN_ENV, adminApi, anthropicKey, assertOpenAIError, bearer, chat, emulator,
  keysConfigYaml, messages, modelRequests, pollUntil, sanitizerReports, startEmulator, startServe, tempDir,
  usdToPico, userMessage,
} from '../testutil/harness.mjs';
import { startPostgres } from '../testutil/pg.mjs';
import { startRedis } from '../testutil/redis.mjs';

const ADMIN = `admin-${randomBytes(12).toString('hex')}`;
const PEPPER = randomBytes(32).toString('hex');
const MODEL = 'deepseek-v4-flash';
const ping = (text = 'ping', model = MODEL) => ({ model, max_tokens: 16, messages: userMessage(text) });
// The health test leaves MODEL cooling down for 30 s on both replicas: later tests use another.
const OTHER_MODEL = 'kimi-k2.6';

describe('two replicas sharing budgets and rate limits in Redis', () => {
  let pg;
  let redis;
  let emu;
  const replicas = [];
  const dirs = [];
  let admin;

  // Replica 0 fails open, replica 1 closed: both modes in one run.
  async function startReplica(i) {
    dirs[i] = tempDir();
    const keysYaml = keysConfigYaml({
      emulatorUrl: emu.url,
      dbPath: path.join(dirs[i], 'ledger.db'),
      auth: { budget_check: 'after' },
    }).replace('    cheap:\n', `    cached:
      rules:
        - name: cached
          chain: [${OTHER_MODEL}]
          cache: {ttl_s: 60}
    cheap:
`);
    const yaml = `${keysYaml}database:
  url: "\${SWITCHYARD_DATABASE_URL}"
  connect_timeout_s: 2
shared_state:
  redis_url: "\${SWITCHYARD_REDIS_URL}"
  on_failure: ${i === 0 ? 'fail_open' : 'fail_closed'}
  timeout_ms: 200
`;
    return startServe(yaml, {
      env: {
        SWITCHYARD_DATABASE_URL: pg.url,
        SWITCHYARD_REDIS_URL: redis.url,
        SWITCHYARD_KEY_PEPPER: PEPPER,
        [ADMIN_TOKEN_ENV]: ADMIN,
      },
    });
  }

  before(async () => {
    [pg, redis, emu] = await Promise.all([startPostgres(), startRedis(), startEmulator()]);
    for (let i = 0; i < 2; i++) replicas.push(await startReplica(i));
    admin = adminApi(replicas[0].url, ADMIN);
  });

  after(async () => {
    for (const r of replicas) {
      const result = await r.stop();
      assert.deepEqual(sanitizerReports(result.stderr), []);
      r.cleanup();
    }
    await emu?.stop();
    await redis?.cleanup();
    await pg?.cleanup();
    for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
  });

  // A key created through replica 0 (stored in PostgreSQL), usable on both once replica 1 has
  // reloaded the keys (within its reload interval).
  async function sharedKey(spec) {
    const { key } = await admin.create(spec);
    await pollUntil(async () => {
      const res = await chat(replicas[1].url, { model: 'no-such-model', messages: userMessage('x') },
        { headers: bearer(key) });
      return res.status !== 401 ? true : undefined;
    });
    return key;
  }

  test('a daily budget stops both replicas at the limit, within one request each', async () => {
    const limit = usdToPico('0.0002');
    const put = await admin.put('/admin/tenants/shared-budget', { budgets: { usd_per_day: '0.0002' } });
    assert.equal(put.status, 200, put.text);
    const key = await sharedKey({ tenant: 'shared-budget' });
    let spent = 0n;
    let dearest = 0n;
    const open = [true, true];
    for (let i = 0; i < 400 && (open[0] || open[1]); i++) {
      const r = i % 2;
      if (!open[r]) continue;
      const res = await chat(replicas[r].url, ping(`budget ${i}`), { headers: bearer(key) });
      if (res.status === 429) {
        assertOpenAIError(assert, res.json, { status: 429 });
        assert.equal(res.json.error.code, 'insufficient_quota', res.text);
        assert.match(res.json.error.message, /tenant shared-budget has spent \$[0-9.]+ of its \$0\.0002 daily budget/);
        open[r] = false;
        continue;
      }
      assert.equal(res.status, 200, res.text);
      const cost = usdToPico(res.headers.get('x-switchyard-cost-usd'));
      spent += cost;
      if (cost > dearest) dearest = cost;
    }
    assert.deepEqual(open, [false, false], 'both replicas stopped');
    assert.ok(spent >= limit, `spent ${spent} reaches the limit ${limit}`);
    assert.ok(spent <= limit + 2n * dearest, `spent ${spent} passes ${limit} by at most one request per replica`);
    // The shared ledger has every request at the cost its header showed.
    const total = await pollUntil(async () => {
      const sum = await pg.query("SELECT coalesce(sum(cost_pico), 0) FROM requests WHERE tenant = 'shared-budget' AND status = 200");
      return BigInt(sum) === spent ? sum : undefined;
    });
    assert.equal(BigInt(total), spent);
  });

  test('a rate limit holds across replicas', async () => {
    const key = await sharedKey({ tenant: 'shared-rate', limits: { requests_per_minute: 6 } });
    const statuses = [];
    for (let i = 0; i < 12; i++) {
      const res = await chat(replicas[i % 2].url, ping(`rate ${i}`), { headers: bearer(key) });
      statuses.push(res.status);
      if (res.status === 429) {
        assert.equal(res.json.error.code, 'rate_limit_exceeded', res.text);
        assert.ok(Number(res.headers.get('retry-after')) >= 1);
      }
    }
    // The one request sharedKey sent to replica 1 was refused before admission (unknown model
    // is decided after it): it took one unit.
    assert.equal(statuses.filter((s) => s === 200).length, 5, statuses.join(','));
    assert.equal(statuses.filter((s) => s === 429).length, 7, statuses.join(','));
  });

  test('a retry-after one replica got keeps every replica off that deployment', async () => {
    const { key } = await admin.create({ tenant: 'shared-health' });
    await sharedKey({ tenant: 'shared-health' });  // both replicas know the tenant's keys by now
    await emulator.clearRequests(emu.url);
    await emulator.addFault(emu.url, { model: MODEL, status: 429, retry_after_s: 30, count: 1 });
    // `auto` tries deepseek-v4-flash, then kimi-k2.6: replica 0 meets the 429 and fails over.
    const first = await chat(replicas[0].url, { ...ping('health'), model: 'auto' }, { headers: bearer(key) });
    assert.equal(first.status, 200, first.text);
    // Replica 1 learns the cool-down through Redis (within its sync interval)...
    const cooling = await pollUntil(async () => {
      const health = await (await fetch(`${replicas[1].url}/v1/route/health`, { headers: bearer(key) })).json();
      const d = health.data.find((e) => e.model === MODEL);
      return d.cooldown_until_ms > 25000 ? d : undefined;
    });
    assert.ok(cooling.cooldown_until_ms <= 30000, JSON.stringify(cooling));
    // ...and sends nothing there: its `auto` requests go straight to kimi-k2.6.
    for (let i = 0; i < 3; i++) {
      const res = await chat(replicas[1].url, { ...ping(`health ${i}`), model: 'auto' }, { headers: bearer(key) });
      assert.equal(res.status, 200, res.text);
    }
    const upstream = modelRequests(await emulator.requests(emu.url)).map((r) => r.body.model);
    assert.equal(upstream.filter((m) => m === MODEL).length, 1, upstream.join(','));
    await emulator.clearFaults(emu.url);
  });

  test('an answer cached by one replica is a hit on the other', async () => {
    const key = await sharedKey({ tenant: 'shared-cache' });
    await emulator.clearRequests(emu.url);
    const request = { model: 'auto:cached', max_tokens: 16, messages: userMessage('cached across') };
    const first = await chat(replicas[0].url, request, { headers: bearer(key) });
    assert.equal(first.status, 200, first.text);
    assert.equal(first.headers.get('x-switchyard-cache'), null);
    // The entry reaches Redis from replica 0's cache thread a moment after its answer.
    const entries = await pollUntil(async () => {
      const keys = await redis.command('KEYS', 'switchyard:cache:*');
      return keys.length > 0 ? keys : undefined;
    });
    assert.equal(entries.length, 1);
    const ttl = Number(await redis.command('PTTL', entries[0]));
    assert.ok(ttl > 50000 && ttl <= 60000, `ttl ${ttl}`);
    const hit = await chat(replicas[1].url, request, { headers: bearer(key) });
    assert.equal(hit.status, 200, hit.text);
    assert.equal(hit.headers.get('x-switchyard-cache'), 'hit');
    assert.equal(hit.headers.get('x-switchyard-cost-usd'), '0');
    assert.equal(hit.text, first.text);
    assert.equal(modelRequests(await emulator.requests(emu.url)).length, 1, 'one model call');
  });

  test('Redis stopped: fail_open decides alone, fail_closed answers 503; both recover', async () => {
    await redis.stop();
    // A key created now has no allowance on either replica: each must ask Redis.
    const key = await sharedKey({ tenant: 'shared-outage', limits: { requests_per_minute: 100 } });
    const open = await chat(replicas[0].url, ping('open', OTHER_MODEL), { headers: bearer(key) });
    assert.equal(open.status, 200, open.text);
    const closed = await chat(replicas[1].url, ping('closed', OTHER_MODEL), { headers: bearer(key) });
    assert.equal(closed.status, 503, closed.text);
    assertOpenAIError(assert, closed.json, { status: 503 });
    assert.match(closed.json.error.message, /counted in Redis, which is not answering/);
    assert.doesNotMatch(closed.text, new RegExp(redis.url.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')));
    const anthropic = await messages(replicas[1].url, ping('closed', OTHER_MODEL), { headers: anthropicKey(key) });
    assert.equal(anthropic.status, 503, anthropic.text);
    assert.equal(anthropic.json.type, 'error', anthropic.text);
    assert.equal(anthropic.json.error.type, 'overloaded_error', anthropic.text);

    await redis.restart();
    // Both try Redis again within a second and then admit through it.
    const recovered = await pollUntil(async () => {
      const res = await chat(replicas[1].url, ping('back', OTHER_MODEL), { headers: bearer(key) });
      return res.status === 200 ? res : undefined;
    }, { timeoutMs: 10000 });
    assert.equal(recovered.status, 200);
    const bucket = await redis.command('EXISTS', (await pollUntil(async () => {
      const keys = await redis.command('KEYS', '*:rpm');
      return keys.length > 0 ? keys[0] : undefined;
    })));
    assert.equal(bucket, 1);
  });
});
