// Deployments, circuit breakers and retries end to end (issue 18): a model served by several
// deployments (each a provider plus the upstream's name for the model), chosen by weight; a
// failing deployment fails over to the model's next one; a 5xx storm opens the deployment's
// breaker (GET /v1/route/health, explain) and a probe after cool_off_ms closes it; retries on one
// deployment; residency choosing the deployment. One gateway (`serve`, this file's config) in
// front of one emulator for the whole file.
//
// Every deployment below has its own upstream model name, so the emulator's request log (the
// `model` of each body) tells which deployment a call reached. The tests run in file order and
// each uses its own models, so one test's breaker state does not reach another's.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';

import {
  chat, emulator, getJson, ledgerRows, modelRequests, postJson, shareServe, sqlite,
  testCleanShutdown, DEFAULT_KEY_ENV,
} from '../testutil/harness.mjs';

// cool_off_ms leaves room for the storm loop below to finish before the breaker half-opens.
const BREAKER = { consecutive_failures: 3, error_rate: 0.5, min_requests: 20, window_ms: 5000,
  cool_off_ms: 3000 };
const RETRIES_PER_DEPLOYMENT = 1;

const PROVIDERS = {
  east: {},
  west: {},
  'host-a': {},
  'host-b': {},
  solo: {},
  'public-cloud': { residency: ['eu'] },
  'private-rack': { residency: ['self-hosted'] },
};

// Every (model, deployment) of the config with its provider and upstream name.
const DEPLOYMENTS = [
  { model: 'pool', deployment: 'east', provider: 'east', upstream: 'pool-east' },
  { model: 'pool', deployment: 'west', provider: 'west', upstream: 'pool-west' },
  { model: 'pair', deployment: 'pair-a', provider: 'host-a', upstream: 'pair-a' },
  { model: 'pair', deployment: 'pair-b', provider: 'host-b', upstream: 'pair-b' },
  { model: 'storm', deployment: 'storm-a', provider: 'host-a', upstream: 'storm-a' },
  { model: 'storm', deployment: 'storm-b', provider: 'host-b', upstream: 'storm-b' },
  { model: 'fragile', deployment: 'host-a', provider: 'host-a', upstream: 'fragile-up' },
  { model: 'steady', deployment: 'host-b', provider: 'host-b', upstream: 'steady' },
  { model: 'single', deployment: 'solo', provider: 'solo', upstream: 'single' },
  { model: 'private', deployment: 'public', provider: 'public-cloud', upstream: 'private-public' },
  { model: 'private', deployment: 'self-hosted', provider: 'private-rack', upstream: 'private-self' },
];

function healthConfig({ emulatorUrl, dbPath }) {
  const providers = Object.entries(PROVIDERS).map(([name, p]) => `  ${name}:
    kind: openai
    base_url: "${emulatorUrl}/v1"
    api_key_env: ${DEFAULT_KEY_ENV}
    region: eu${p.residency ? `\n    residency: [${p.residency.join(', ')}]` : ''}`).join('\n');
  const price = 'price: {input: "0.50", output: "1.50"}';
  return `server:
  listen: "127.0.0.1:0"
  threads: 2
providers:
${providers}
models:
  pool:
    # names default to the providers' names (east, west)
    deployments:
      - {provider: east, upstream_name: pool-east, weight: 3}
      - {provider: west, upstream_name: pool-west, weight: 1}
    strategy: weighted
    ${price}
  pair:
    deployments:
      - {provider: host-a, name: pair-a, upstream_name: pair-a}
      - {provider: host-b, name: pair-b, upstream_name: pair-b}
    ${price}
  storm:
    deployments:
      - {provider: host-a, name: storm-a, upstream_name: storm-a, weight: 9}
      - {provider: host-b, name: storm-b, upstream_name: storm-b, weight: 1}
    strategy: weighted
    ${price}
  fragile:
    provider: host-a
    upstream_name: fragile-up
    ${price}
  steady:
    provider: host-b
    ${price}
  single:
    provider: solo
    ${price}
  private:
    deployments:
      - {provider: public-cloud, name: public, upstream_name: private-public, weight: 5}
      - {provider: private-rack, name: self-hosted, upstream_name: private-self, weight: 1}
    ${price}
aliases:
  fragile-first: [fragile, steady]
routing:
  profiles:
    auto:
      rules:
        - name: default
          chain: [pool]
    private:
      rules:
        - name: self-hosted-only
          cheapest: {residency: [self-hosted], top: 1}
failover:
  max_attempts: 4
  retries_per_deployment: ${RETRIES_PER_DEPLOYMENT}
  backoff_base_ms: 10
  backoff_max_ms: 50
health:
  breaker:
${Object.entries(BREAKER).map(([k, v]) => `    ${k}: ${v}`).join('\n')}
ledger:
  sqlite_path: ${JSON.stringify(dbPath)}
  flush_interval_ms: 20
`;
}

const user = (text) => [{ role: 'user', content: text }];
const ping = (model) => ({ model, max_tokens: 8, messages: user('ping') });
const header = (res, name) => res.headers.get(name);
const keyOf = (e) => `${e.model}/${e.deployment}`;

// ---------------------------------------------------------------------------------------------

describe('deployments, breakers and retries', () => {
  let s;
  shareServe(healthConfig, async (served) => {
    s = served;
    for (const d of DEPLOYMENTS) {
      await emulator.setProfile(s.emulatorUrl, d.upstream, { ttft_ms: 1, tokens_per_s: 0 });
    }
  });

  // How many generation calls each upstream model name received since the last reset.
  async function upstreamCounts() {
    const counts = {};
    for (const r of modelRequests(await emulator.requests(s.emulatorUrl))) {
      counts[r.body?.model] = (counts[r.body?.model] ?? 0) + 1;
    }
    return counts;
  }

  async function health() {
    const res = await getJson(`${s.url}/v1/route/health`);
    assert.equal(res.status, 200, res.text);
    assert.equal(res.json?.object, 'list', res.text);
    return new Map(res.json.data.map((e) => [keyOf(e), e]));
  }

  async function attemptRows(id) {
    await ledgerRows(s.dbPath, [id]);
    return sqlite(s.dbPath, `SELECT idx, model, provider, deployment, http_status, outcome
      FROM attempts WHERE request_id = '${id}' ORDER BY idx`);
  }

  const explain = (body) => postJson(`${s.url}/v1/route/explain`, body);

  // --- 6. the health endpoint's shape (first: every breaker is fresh) ---------------------------

  test('GET /v1/route/health lists every deployment, all closed', async () => {
    const res = await getJson(`${s.url}/v1/route/health`);
    assert.equal(res.status, 200, res.text);
    assert.match(res.headers.get('content-type') ?? '', /application\/json/);
    assert.equal(res.json.object, 'list');
    assert.ok(Array.isArray(res.json.data), res.text);
    assert.deepEqual(res.json.data.map(keyOf).sort(), DEPLOYMENTS.map(keyOf).sort());
    const byKey = new Map(DEPLOYMENTS.map((d) => [keyOf(d), d]));
    for (const e of res.json.data) {
      const where = JSON.stringify(e);
      assert.equal(e.provider, byKey.get(keyOf(e)).provider, where);
      assert.equal(e.state, 'closed', where);
      for (const field of ['consecutive_failures', 'window_requests', 'window_failures', 'in_flight',
        'opened_total']) {
        assert.equal(e[field], 0, `${field}: ${where}`);
      }
      assert.equal(e.error_rate, 0, where);
      assert.ok(e.latency_ewma_ms === null || (typeof e.latency_ewma_ms === 'number'
        && e.latency_ewma_ms >= 0), where);
      assert.equal(e.open_until_ms, null, where);
      assert.equal(e.cooldown_until_ms, null, where);
    }
  });

  // --- 1. weights -------------------------------------------------------------------------------

  test('weights 3:1, strategy weighted: 200 requests split about 75/25', async () => {
    const N = 200;
    const providers = {};
    for (let i = 0; i < N; i += 4) {
      const batch = await Promise.all([0, 1, 2, 3].map(() => chat(s.url, ping('pool'))));
      for (const res of batch) {
        assert.equal(res.status, 200, res.text);
        assert.equal(header(res, 'x-switchyard-model'), 'pool');
        const p = header(res, 'x-switchyard-provider');
        providers[p] = (providers[p] ?? 0) + 1;
      }
    }
    const counts = await upstreamCounts();
    assert.deepEqual(Object.keys(counts).sort(), ['pool-east', 'pool-west']);
    assert.equal(counts['pool-east'] + counts['pool-west'], N, 'one call per request');
    // The answering deployment's provider is the one named in x-switchyard-provider.
    assert.deepEqual(providers, { east: counts['pool-east'], west: counts['pool-west'] });
    const share = counts['pool-east'] / N;
    assert.ok(share >= 0.65 && share <= 0.85, `east's share ${share} (${JSON.stringify(counts)})`);
  });

  // --- 2. failover between deployments of one model ---------------------------------------------

  test('one deployment answers 503: every request still 200 from the other deployment', async () => {
    await emulator.addFault(s.emulatorUrl, { model: 'pair-b', status: 503, count: 1000 });
    const ids = [];
    for (let i = 0; i < 30; ++i) {
      const res = await chat(s.url, ping('pair'));
      assert.equal(res.status, 200, res.text);
      assert.equal(header(res, 'x-switchyard-model'), 'pair');
      assert.equal(header(res, 'x-switchyard-provider'), 'host-a');
      ids.push(header(res, 'x-switchyard-request-id'));
    }
    let failedOver = 0;
    for (const id of ids) {
      const attempts = await attemptRows(id);
      const last = attempts.at(-1);
      assert.deepEqual([last.model, last.provider, last.deployment, last.http_status, last.outcome],
        ['pair', 'host-a', 'pair-a', 200, 'ok'], JSON.stringify(attempts));
      // Before it: pair-b's 503s (with a retry in place), or, once its breaker opened, pair-b
      // skipped as open.
      for (const a of attempts.slice(0, -1)) {
        assert.ok([503, 0].includes(a.http_status), JSON.stringify(attempts));
        assert.deepEqual([a.model, a.provider, a.deployment, a.outcome],
          ['pair', 'host-b', 'pair-b', a.http_status === 503 ? 'failed' : 'skipped'],
          JSON.stringify(attempts));
      }
      if (attempts.length > 1) ++failedOver;
    }
    assert.ok(failedOver >= 1, 'some request tried pair-b first and failed over to pair-a');
    const counts = await upstreamCounts();
    assert.equal(counts['pair-a'], ids.length);
  });

  // --- 4. retries within a deployment -----------------------------------------------------------

  test('retries_per_deployment 1: one 500 on the only deployment -> retried there, 200', async () => {
    await emulator.addFault(s.emulatorUrl, { model: 'single', status: 500, count: 1 });
    const res = await chat(s.url, ping('single'));
    assert.equal(res.status, 200, res.text);
    assert.equal(header(res, 'x-switchyard-attempts'), '2');
    assert.equal(header(res, 'x-switchyard-provider'), 'solo');
    assert.deepEqual(await upstreamCounts(), { single: 2 });
    const attempts = await attemptRows(header(res, 'x-switchyard-request-id'));
    assert.deepEqual(attempts.map((a) => [a.model, a.provider, a.deployment, a.http_status, a.outcome]),
      [['single', 'solo', 'solo', 500, 'failed'], ['single', 'solo', 'solo', 200, 'ok']]);
  });

  // --- 3. the breaker opens and closes ----------------------------------------------------------

  test('a 5xx storm opens the breaker; after cool_off_ms one probe closes it', async () => {
    await emulator.addFault(s.emulatorUrl, { model: 'storm-a', status: 500, count: 1000 });
    const reached = [];  // storm-a's call count after each request
    for (let i = 0; i < 12; ++i) {
      const res = await chat(s.url, ping('storm'));
      assert.equal(res.status, 200, res.text);
      assert.equal(header(res, 'x-switchyard-provider'), 'host-b');
      reached.push((await upstreamCounts())['storm-a'] ?? 0);
    }
    const calls = reached.at(-1);
    assert.ok(calls >= BREAKER.consecutive_failures,
      `storm-a failed ${calls} times before it was left alone: ${reached}`);
    assert.ok(calls <= BREAKER.consecutive_failures * (1 + RETRIES_PER_DEPLOYMENT),
      `the breaker stopped the calls: ${reached}`);
    assert.equal(reached.at(-6), calls, `the last requests did not reach storm-a: ${reached}`);

    const open = (await health()).get('storm/storm-a');
    assert.equal(open.state, 'open', JSON.stringify(open));
    assert.equal(open.provider, 'host-a');
    assert.ok(open.consecutive_failures >= BREAKER.consecutive_failures, JSON.stringify(open));
    assert.equal(open.opened_total, 1, JSON.stringify(open));
    assert.ok(open.open_until_ms > 0 && open.open_until_ms <= BREAKER.cool_off_ms, JSON.stringify(open));
    const other = (await health()).get('storm/storm-b');
    assert.equal(other.state, 'closed', JSON.stringify(other));

    const ex = await explain(ping('storm'));
    assert.equal(ex.status, 200, ex.text);
    const candidate = ex.json.candidates.find((c) => c.model === 'storm');
    assert.equal(candidate?.kept, true, ex.text);
    const deployments = new Map(candidate.deployments.map((d) => [d.name, d]));
    assert.equal(deployments.get('storm-a')?.kept, false, ex.text);
    assert.equal(deployments.get('storm-a').provider, 'host-a');
    assert.match(deployments.get('storm-a').reason, /circuit/i);
    assert.equal(deployments.get('storm-b')?.kept, true, ex.text);

    // Cooled off, the fault gone: the next request that picks storm-a probes it and closes it.
    await emulator.clearFaults(s.emulatorUrl);
    await new Promise((r) => setTimeout(r, open.open_until_ms + 100));
    const before = reached.at(-1);
    let probed = false;
    for (let i = 0; i < 20 && !probed; ++i) {
      const res = await chat(s.url, ping('storm'));
      assert.equal(res.status, 200, res.text);
      probed = ((await upstreamCounts())['storm-a'] ?? 0) > before;
      if (probed) assert.equal(header(res, 'x-switchyard-provider'), 'host-a');
    }
    assert.ok(probed, 'a request reached storm-a again after the cool-off');
    const closed = (await health()).get('storm/storm-a');
    assert.equal(closed.state, 'closed', JSON.stringify(closed));
    assert.equal(closed.consecutive_failures, 0, JSON.stringify(closed));
    assert.equal(closed.open_until_ms, null, JSON.stringify(closed));
    assert.equal(closed.opened_total, 1, JSON.stringify(closed));
  });

  test('a model whose every deployment is open is dropped: constraint circuit_open', async () => {
    await emulator.addFault(s.emulatorUrl, { model: 'fragile-up', status: 500, count: 1000 });
    let state;
    for (let i = 0; i < 5 && state !== 'open'; ++i) {
      const res = await chat(s.url, ping('fragile-first'));
      assert.equal(res.status, 200, res.text);
      assert.equal(header(res, 'x-switchyard-model'), 'steady');
      state = (await health()).get('fragile/host-a').state;
    }
    assert.equal(state, 'open', 'fragile\'s only deployment opened');

    const ex = await explain(ping('fragile-first'));
    assert.equal(ex.status, 200, ex.text);
    const fragile = ex.json.candidates.find((c) => c.model === 'fragile');
    assert.equal(fragile?.kept, false, ex.text);
    assert.equal(fragile.constraint, 'circuit_open', ex.text);
    assert.equal(ex.json.candidates.find((c) => c.model === 'steady')?.kept, true, ex.text);

    await emulator.clearRequests(s.emulatorUrl);
    const res = await chat(s.url, ping('fragile-first'));
    assert.equal(res.status, 200, res.text);
    assert.equal(header(res, 'x-switchyard-model'), 'steady');
    assert.equal(header(res, 'x-switchyard-attempts'), '1');
    assert.deepEqual(await upstreamCounts(), { steady: 1 });
  });

  // --- 5. residency -----------------------------------------------------------------------------

  test('residency [self-hosted] sends traffic only to the self-hosted deployment', async () => {
    const N = 20;
    for (let i = 0; i < N; ++i) {
      const res = await chat(s.url, ping('auto:private'));
      assert.equal(res.status, 200, res.text);
      assert.equal(header(res, 'x-switchyard-model'), 'private');
      assert.equal(header(res, 'x-switchyard-provider'), 'private-rack');
    }
    assert.deepEqual(await upstreamCounts(), { 'private-self': N });

    const ex = await explain(ping('auto:private'));
    assert.equal(ex.status, 200, ex.text);
    const candidate = ex.json.candidates.find((c) => c.model === 'private');
    assert.equal(candidate?.kept, true, ex.text);
    const deployments = new Map(candidate.deployments.map((d) => [d.name, d]));
    assert.equal(deployments.get('public')?.kept, false, ex.text);
    assert.match(deployments.get('public').reason, /residency/);
    assert.equal(deployments.get('self-hosted')?.kept, true, ex.text);

    // Without the constraint the heavier public deployment takes most of the traffic.
    await emulator.clearRequests(s.emulatorUrl);
    for (let i = 0; i < N; ++i) assert.equal((await chat(s.url, ping('private'))).status, 200);
    const counts = await upstreamCounts();
    assert.ok((counts['private-public'] ?? 0) > 0, JSON.stringify(counts));
  });

  testCleanShutdown(() => s);
});
