// A request is sent upstream at most once per ledger attempt: a connection reset on a reused
// keep-alive connection, after the upstream read the request, is a failed attempt, never a
// silent resend (a provider may bill the lost request).
import assert from 'node:assert/strict';
import { test } from 'node:test';

import {
  chat, emulator, freshServe, ledgerRows, modelRequests, sqlite, userMessage,
} from '../testutil/harness.mjs';

async function attemptModels(dbPath, requestId) {
  await ledgerRows(dbPath, [requestId]);
  const rows = await sqlite(dbPath,
    `SELECT model, error_code FROM attempts WHERE request_id = '${requestId}' ORDER BY idx`);
  return rows;
}

test('reset on a reused upstream connection: emulator requests == ledger attempts', async (t) => {
  // One worker, so the second request finds the first one's pooled connection.
  const { gw, emu, dbPath } = await freshServe(t, { server: { threads: 1 } });

  const first = await chat(gw.url, { model: 'economy', messages: userMessage() });
  assert.equal(first.status, 200, first.text);
  assert.equal(first.headers.get('x-switchyard-model'), 'deepseek-v4-flash');
  await emulator.clearRequests(emu.url);

  await emulator.addFault(emu.url, { model: 'deepseek-v4-flash', kind: 'reset', count: 1 });
  const second = await chat(gw.url, { model: 'economy', messages: userMessage() });
  assert.equal(second.status, 200, second.text);

  const upstream = modelRequests(await emulator.requests(emu.url)).map((r) => r.body?.model);
  const attempts = await attemptModels(dbPath, second.headers.get('x-switchyard-request-id'));
  assert.deepEqual(upstream, attempts.map((a) => a.model),
    'every request the upstream saw is an attempt in the ledger');
  assert.deepEqual(upstream, ['deepseek-v4-flash', 'kimi-k2.6'],
    'the reset request was not re-sent; the chain failed over instead');
  assert.equal(attempts[0].error_code, 'upstream_unavailable');
  assert.equal(second.headers.get('x-switchyard-attempts'), '2');
});
