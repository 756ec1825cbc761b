// Client keys through the official openai and @anthropic-ai/sdk clients (issue 19, "How it is
// shown"): a key with a $0.01 daily budget stops at the limit and the ledger's spend of it stays
// within one request's cost of $0.01; requests_per_minute answers 429 with retry-after; a tenant
// cannot read another tenant's spend; feedback moves cost per successful task. One gateway
// (`serve`, keys on, budget_check estimate) in front of one emulator for the file.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describe, test } from 'node:test';

import Anthropic from '@anthropic-ai/sdk';
import OpenAI from 'openai';

import {
  ADMIN_TOKEN_ENV, DECIMAL_RE, adminApi, decimalToUnits, emulator, keysConfigYaml, modelRequests,
  picoToUsd, shareServe, testCleanShutdown, usdToPico,
} from '../testutil/harness.mjs';

const ADMIN = `admin-${randomBytes(16).toString('hex')}`;
// A priced model: every answer is cut at max_tokens (the emulator's prose is 20..60 tokens), so
// a request's real cost is its worst case and budget_check estimate can use the whole budget:
// 20 output tokens at $70/M = $0.0014, plus a few input tokens at $0.10/M.
const METERED = `  metered:
    provider: upstream
    price: {input: "0.10", output: "70.00"}
`;
const MAX_TOKENS = 20;
const BUDGET = '0.01';

const user = (text) => [{ role: 'user', content: text }];
const openaiFor = (url, key) => new OpenAI({ apiKey: key, baseURL: `${url}/v1`, maxRetries: 0, timeout: 30000 });
const anthropicFor = (url, key) => new Anthropic({ apiKey: key, baseURL: url, maxRetries: 0, timeout: 30000 });

// Seconds from now to the next UTC midnight.
function secondsToUtcMidnight() {
  const now = new Date();
  const next = Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate() + 1);
  return (next - now.getTime()) / 1000;
}

// Sends priced requests with `key` until one is refused (bounded): {costs: [pico], refusal}.
async function spendUntilRefused(url, key) {
  const client = openaiFor(url, key);
  const costs = [];
  for (let i = 0; i < 40; ++i) {
    try {
      const { data, response } = await client.chat.completions
        .create({ model: 'metered', max_tokens: MAX_TOKENS, messages: user(`question ${i}: tell me about rivers`) })
        .withResponse();
      assert.equal(data.usage.completion_tokens, MAX_TOKENS);
      const cost = response.headers.get('x-switchyard-cost-usd');
      assert.match(cost ?? '', DECIMAL_RE);
      costs.push(usdToPico(cost));
    } catch (err) {
      return { costs, refusal: err };
    }
  }
  assert.fail(`no 429 within 40 requests (costs: ${costs.map(picoToUsd)})`);
  return { costs };
}

describe('client keys through the official SDKs', () => {
  let s;
  let admin;
  shareServe((o) => keysConfigYaml({ ...o, models: METERED, auth: { budget_check: 'estimate' } }),
    async (served) => {
      s = served;
      admin = adminApi(s.url, ADMIN);
      for (const m of ['metered', 'deepseek-v4-flash', 'kimi-k2.6']) {
        await emulator.setProfile(s.emulatorUrl, m, { ttft_ms: 1, tokens_per_s: 0 });
      }
    }, { env: { [ADMIN_TOKEN_ENV]: ADMIN } });

  test('a $0.01 daily budget: 429 RateLimitError naming it; spend within one request of $0.01', async () => {
    const k = await admin.create({ tenant: 'budget-team', name: 'one-cent', budgets: { usd_per_day: BUDGET } });
    const { costs, refusal } = await spendUntilRefused(s.url, k.key);
    assert.ok(refusal instanceof OpenAI.RateLimitError, `${refusal.constructor.name}: ${refusal.message}`);
    assert.equal(refusal.status, 429);
    // docs/api.md: OpenAI's own insufficient_quota as type and code (spec19 had budget_exceeded).
    assert.equal(refusal.code, 'insufficient_quota');
    assert.equal(refusal.type, 'insufficient_quota');
    assert.match(refusal.message, /Budget exceeded: key key_\w+ \(tenant budget-team\)/);
    assert.ok(refusal.message.includes(k.id), refusal.message);
    assert.match(refusal.message, /daily budget/);
    assert.match(refusal.message, /\$0\.01\b/);
    assert.match(refusal.message, /resets at \d{4}-\d{2}-\d{2}T00:00:00Z/);
    // budget_check estimate: refused before sending, because the worst case no longer fits.
    assert.match(refusal.message,
      /this request could cost up to \$[\d.]+ and \$[\d.]+ of (the|its \$0\.01) daily budget remains/);
    const retryAfter = Number(refusal.headers.get('retry-after'));
    assert.ok(Number.isInteger(retryAfter), `retry-after ${refusal.headers.get('retry-after')}`);
    assert.ok(Math.abs(retryAfter - secondsToUtcMidnight()) <= 5,
      `retry-after ${retryAfter} s is the time to the UTC day's end (${secondsToUtcMidnight()} s)`);
    assert.ok(costs.length >= 3, `several requests fit in the budget: ${costs.length}`);

    // The other dialect is refused too, before anything is sent.
    await emulator.clearRequests(s.emulatorUrl);
    await assert.rejects(
      anthropicFor(s.url, k.key).messages.create({ model: 'metered', max_tokens: MAX_TOKENS,
        messages: user('one more') }),
      (err) => {
        assert.ok(err instanceof Anthropic.RateLimitError, `${err.constructor.name}: ${err.message}`);
        assert.equal(err.status, 429);
        assert.match(err.message, /daily budget/);
        assert.match(err.headers.get('retry-after') ?? '', /^[1-9]\d*$/);
        return true;
      });
    assert.deepEqual(modelRequests(await emulator.requests(s.emulatorUrl)), []);

    // The ledger's spend of the key: within one request's cost of the budget.
    const one = costs.reduce((a, c) => (c > a ? c : a), 0n);
    const budget = usdToPico(BUDGET);
    // The ledger writes in the background: wait (bounded) for the last refusal's row.
    let group;
    for (let i = 0; i < 100; ++i) {
      const report = await admin.spend({ by: 'key' });
      group = report.groups.find((g) => g.key === k.id);
      if (group?.requests >= costs.length + 2) break;
      await new Promise((r) => setTimeout(r, 50));
    }
    assert.ok(group, `key ${k.id} in the spend by key`);
    const spent = usdToPico(group.cost_usd);
    assert.equal(spent, costs.reduce((a, c) => a + c, 0n), 'spend equals the cost headers');
    assert.ok(spent >= budget - one && spent <= budget + one,
      `spent ${picoToUsd(spent)}, budget ${BUDGET}, one request ${picoToUsd(one)}`);
    assert.equal(group.requests, costs.length + 2, 'the two refusals are recorded too');
    assert.equal(group.failed, 2);
    const keyObject = (await admin.get(`/admin/keys/${k.id}`)).json;
    assert.equal(usdToPico(keyObject.spend.usd_today), spent);
  });

  // budget_check estimate under concurrency: every call reserves its worst case before it is
  // sent, so requests racing for the last cents cannot together pass the budget.
  test('a $0.01 budget hit by 24 concurrent requests: spend never passes it', async () => {
    const k = await admin.create({ tenant: 'race-team', budgets: { usd_per_day: BUDGET } });
    const client = openaiFor(s.url, k.key);
    const outcomes = await Promise.allSettled(Array.from({ length: 24 }, (_, i) =>
      client.chat.completions
        .create({ model: 'metered', max_tokens: MAX_TOKENS, messages: user(`race ${i}: rivers`) })
        .withResponse()));
    const ok = outcomes.filter((o) => o.status === 'fulfilled');
    const refused = outcomes.filter((o) => o.status === 'rejected');
    assert.ok(ok.length >= 3, `some fit: ${ok.length}`);
    assert.ok(refused.length >= 1, 'some are refused');
    for (const r of refused) {
      assert.ok(r.reason instanceof OpenAI.RateLimitError, `${r.reason.constructor.name}: ${r.reason.message}`);
      assert.match(r.reason.message, /daily budget/);
    }
    const spent = ok.reduce((a, o) => a + usdToPico(o.value.response.headers.get('x-switchyard-cost-usd')), 0n);
    assert.ok(spent <= usdToPico(BUDGET), `spent ${picoToUsd(spent)} within ${BUDGET}`);
  });

  test('requests_per_minute 3: the 4th request is a 429 with retry-after, in both SDKs', async () => {
    const k = await admin.create({ tenant: 'rate-team', limits: { requests_per_minute: 3 } });
    const anthropic = anthropicFor(s.url, k.key);
    const remaining = [];
    for (let i = 0; i < 3; ++i) {
      const { data, response } = await anthropic.messages
        .create({ model: 'deepseek-v4-flash', max_tokens: 8, messages: user('ping') })
        .withResponse();
      assert.equal(data.type, 'message');
      assert.equal(response.headers.get('x-ratelimit-limit-requests'), '3');
      remaining.push(Number(response.headers.get('x-ratelimit-remaining-requests')));
    }
    assert.deepEqual(remaining, [2, 1, 0]);
    await assert.rejects(
      anthropic.messages.create({ model: 'deepseek-v4-flash', max_tokens: 8, messages: user('ping') }),
      (err) => {
        assert.ok(err instanceof Anthropic.RateLimitError, `${err.constructor.name}: ${err.message}`);
        assert.equal(err.status, 429);
        assert.equal(err.error?.error?.type, 'rate_limit_error');
        // Decision: the tenant may be named and the wait may have a fraction ("19.966s").
        assert.match(err.message, /Rate limit reached: key key_\w+ (\(tenant rate-team\) )?allows 3 requests per minute; try again in \d+(\.\d+)?s\./);
        const retryAfter = Number(err.headers.get('retry-after'));
        // One request refills in 20 s at 3 a minute.
        assert.ok(retryAfter >= 1 && retryAfter <= 20, `retry-after ${err.headers.get('retry-after')}`);
        assert.equal(err.headers.get('x-ratelimit-remaining-requests'), '0');
        assert.match(err.headers.get('x-ratelimit-reset-requests') ?? '', /^\d/);
        return true;
      });
    await assert.rejects(
      openaiFor(s.url, k.key).chat.completions.create({ model: 'deepseek-v4-flash', messages: user('ping') }),
      (err) => {
        assert.ok(err instanceof OpenAI.RateLimitError, `${err.constructor.name}: ${err.message}`);
        assert.equal(err.code, 'rate_limit_exceeded');
        assert.match(err.headers.get('retry-after') ?? '', /^[1-9]\d*$/);
        return true;
      });
  });

  test('a tenant reads only its own spend: another tenant\'s is a 403', async () => {
    const a = await admin.create({ tenant: 'tenant-a' });
    const b = await admin.create({ tenant: 'tenant-b' });
    const clientA = openaiFor(s.url, a.key);
    const clientB = openaiFor(s.url, b.key);
    let costA = 0n;
    for (let i = 0; i < 2; ++i) {
      const { response } = await clientA.chat.completions
        .create({ model: 'kimi-k2.6', max_tokens: 30, messages: user(`a ${i}`) }).withResponse();
      costA += usdToPico(response.headers.get('x-switchyard-cost-usd'));
    }
    for (let i = 0; i < 3; ++i) {
      await clientB.chat.completions.create({ model: 'kimi-k2.6', max_tokens: 30, messages: user(`b ${i}`) });
    }
    await assert.rejects(clientA.get('/spend', { query: { by: 'key', tenant: 'tenant-b' } }), (err) => {
      assert.ok(err instanceof OpenAI.PermissionDeniedError, `${err.constructor.name}: ${err.message}`);
      assert.equal(err.status, 403);
      return true;
    });
    await assert.rejects(anthropicFor(s.url, a.key).get('/v1/spend', { query: { by: 'key', tenant: 'tenant-b' } }),
      (err) => err instanceof Anthropic.PermissionDeniedError);

    // Its own: only its own key and tenant, the exact cost of its two requests (the ledger
    // flushes in the background: poll briefly).
    let own;
    for (let i = 0; i < 100; ++i) {
      own = await clientA.get('/spend', { query: { by: 'key' } });
      if (own.total?.requests === 2) break;
      await new Promise((r) => setTimeout(r, 50));
    }
    assert.deepEqual(own.groups.map((g) => g.key), [a.id]);
    assert.equal(own.total.requests, 2);
    assert.equal(usdToPico(own.total.cost_usd), costA);
    const byTenant = await clientA.get('/spend', { query: { by: 'tenant', tenant: 'tenant-a' } });
    assert.deepEqual(byTenant.groups.map((g) => g.key), ['tenant-a']);
    const byModel = await clientA.get('/spend', { query: { by: 'model' } });
    assert.equal(byModel.total.requests, 2, 'B\'s three requests are not in A\'s report');
  });

  test('feedback moves cost per successful task', async () => {
    const k = await admin.create({ tenant: 'fb-team' });
    const client = openaiFor(s.url, k.key);
    const run = async (task, text) => {
      const { response } = await client.chat.completions
        .create({ model: 'kimi-k2.6', max_tokens: 40, messages: user(text) },
          { headers: { 'x-switchyard-task-id': task } })
        .withResponse();
      return { id: response.headers.get('x-switchyard-request-id'),
        pico: usdToPico(response.headers.get('x-switchyard-cost-usd')) };
    };
    const a1 = await run('task-a', 'draft the summary');
    const a2 = await run('task-a', 'shorter, please');
    const b1 = await run('task-b', 'classify this ticket');
    const costA = a1.pico + a2.pico;
    const costB = b1.pico;
    assert.ok(costA > 0n && costB > 0n);

    const fa = await client.post('/feedback', { body: { task_id: 'task-a', outcome: 'success', score: 0.9 } });
    assert.equal(fa.object, 'feedback');
    assert.match(fa.id, /^fb_/);
    assert.equal(fa.task_id, 'task-a');
    assert.equal(fa.outcome, 'success');
    const fb = await client.post('/feedback', { body: { request_id: b1.id, outcome: 'failure', user_retried: true } });
    assert.equal(fb.request_id, b1.id);
    assert.equal(fb.outcome, 'failure');

    const kimi = async () => {
      let group;
      for (let i = 0; i < 100; ++i) {
        const report = await client.get('/outcomes', { query: { by: 'model' } });
        group = report.groups?.find((g) => g.key === 'kimi-k2.6');
        if (group && usdToPico(group.cost_usd) >= costA + costB) break;
        await new Promise((r) => setTimeout(r, 50));
      }
      return group;
    };
    let g = await kimi();
    assert.ok(g, 'a kimi-k2.6 group');
    assert.equal(g.tasks, 2);
    assert.equal(g.rated, 2);
    assert.equal(g.successes, 1);
    assert.equal(g.failures, 1);
    assert.equal(g.success_rate, 0.5);
    assert.equal(g.retry_rate, 0.5);
    assert.equal(usdToPico(g.cost_usd), costA + costB);
    // Every request of both tasks over the one success.
    assert.equal(g.cost_per_successful_task_usd, picoToUsd(costA + costB));

    // A further successful task: (A + B + C) / 2.
    const c1 = await run('task-c', 'translate the note');
    await client.post('/feedback', { body: { task_id: 'task-c', outcome: 'success' } });
    const total = costA + costB + c1.pico;
    for (let i = 0; i < 100; ++i) {
      g = await kimi();
      if (g.successes === 2) break;
      await new Promise((r) => setTimeout(r, 50));
    }
    assert.equal(g.tasks, 3);
    assert.equal(g.successes, 2);
    assert.equal(usdToPico(g.cost_usd), total);
    const perSuccess = decimalToUnits(g.cost_per_successful_task_usd, 12);
    const diff = perSuccess * 2n - total;
    assert.ok(diff >= -1n && diff <= 1n,
      `cost per successful task ${g.cost_per_successful_task_usd} = ${picoToUsd(total)} / 2`);
  });

  testCleanShutdown(() => s);
});

// budget_check after: nothing is estimated; a request is admitted while spent < budget, so the
// spend reaches the budget and passes it by at most the last request's cost.
describe('budget_check after, through the openai SDK', () => {
  let s;
  let admin;
  shareServe((o) => keysConfigYaml({ ...o, models: METERED, auth: { budget_check: 'after' } }),
    async (served) => {
      s = served;
      admin = adminApi(s.url, ADMIN);
      await emulator.setProfile(s.emulatorUrl, 'metered', { ttft_ms: 1, tokens_per_s: 0 });
    }, { env: { [ADMIN_TOKEN_ENV]: ADMIN } });

  test('a $0.01 daily budget: spend reaches $0.01, then 429', async () => {
    const k = await admin.create({ tenant: 'after-team', budgets: { usd_per_day: BUDGET } });
    const { costs, refusal } = await spendUntilRefused(s.url, k.key);
    assert.ok(refusal instanceof OpenAI.RateLimitError, `${refusal.constructor.name}: ${refusal.message}`);
    assert.equal(refusal.status, 429);
    assert.match(refusal.message, /has spent \$[\d.]+ of its \$0\.01 daily budget/);
    assert.doesNotMatch(refusal.message, /could cost/);
    assert.match(refusal.headers.get('retry-after') ?? '', /^[1-9]\d*$/);
    const spent = costs.reduce((a, c) => a + c, 0n);
    const budget = usdToPico(BUDGET);
    const last = costs.at(-1);
    assert.ok(spent >= budget && spent - last < budget,
      `spent ${picoToUsd(spent)}: the budget was reached by the last admitted request (${picoToUsd(last)})`);
  });

  testCleanShutdown(() => s);
});
