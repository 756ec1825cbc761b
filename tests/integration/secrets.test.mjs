// The upstream API key reaches the upstream and nothing else: not stdout/stderr, not response
// headers or bodies, not the ledger file.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';

import {
  chat, emulator, getJson, messages, modelRequests, sanitizerReports, startEmulator, startServe, streamChat,
  tempDir, testConfigYaml, userMessage,
} from '../testutil/harness.mjs';

const SECRET = `sk-sytest-${randomBytes(12).toString('hex')}`;
// Fragments that a partial leak ("sk-sytest-...abcd") would still show.
const FRAGMENTS = [SECRET, SECRET.slice(10, 26), SECRET.slice(-12)];

function assertNoSecret(text, where) {
  for (const f of FRAGMENTS) {
    assert.ok(!text.includes(f), `secret (or a fragment) found in ${where}`);
  }
}

describe('secrets', () => {
  let emu;
  let gw;
  let dir;
  let dbPath;
  const seen = [];  // every response: headers and body text
  before(async () => {
    emu = await startEmulator();
    dir = tempDir();
    dbPath = path.join(dir, 'ledger.db');
    gw = await startServe(testConfigYaml({ emulatorUrl: emu.url, dbPath, apiKeyEnv: 'SY_TEST_UPSTREAM_KEY' }),
      { env: { SY_TEST_UPSTREAM_KEY: SECRET } });
  });
  after(async () => {
    await gw?.stop();
    await emu?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  const keep = (headers, body) => {
    const h = headers instanceof Headers ? [...headers.entries()] : Object.entries(headers);
    seen.push(`${JSON.stringify(h)}\n${body}`);
  };

  test('requests (successes, upstream 401/500, unknown model, stream) never echo the key', async () => {
    let res = await chat(gw.url, { model: 'economy', messages: userMessage() });
    assert.equal(res.status, 200, res.text);
    keep(res.headers, res.text);

    await emulator.addFault(emu.url, { model: 'gpt-5.5', status: 401, count: 1 });
    res = await chat(gw.url, { model: 'gpt-5.5', messages: userMessage() });
    keep(res.headers, res.text);
    assert.equal(res.status, 502, `an upstream 401 is the gateway's problem, not the client's: ${res.text}`);
    assert.doesNotMatch(res.text, /sk-/);
    // Typed as the gateway's failure, not as a fault of the client's request.
    assert.equal(res.json?.error?.type, 'upstream_error', res.text);
    assert.equal(res.json?.error?.code, 'upstream_rejected', res.text);

    await emulator.addFault(emu.url, { model: 'gpt-5.5', status: 403, count: 1 });
    res = await messages(gw.url, { model: 'gpt-5.5', max_tokens: 16, messages: userMessage() });
    keep(res.headers, res.text);
    assert.equal(res.status, 502, res.text);
    assert.equal(res.json?.error?.type, 'api_error', res.text);

    await emulator.addFault(emu.url, { model: 'deepseek-v4-flash', status: 401, count: 1 });
    res = await chat(gw.url, { model: 'economy', messages: userMessage() });
    keep(res.headers, res.text);
    assert.equal(res.status, 200, 'a 401 from one provider fails over');

    for (const model of ['deepseek-v4-flash', 'kimi-k2.6', 'gpt-5.5']) {
      await emulator.addFault(emu.url, { model, status: 500, count: 10 });
    }
    res = await chat(gw.url, { model: 'economy', messages: userMessage() });
    keep(res.headers, res.text);
    assert.equal(res.status, 502);
    await emulator.clearFaults(emu.url);

    res = await chat(gw.url, { model: 'nope', messages: userMessage() });
    keep(res.headers, res.text);
    const s = await streamChat(gw.url, { model: 'economy', stream: true, messages: userMessage() });
    keep({ ...s.headers, ...s.trailers }, s.raw);
    const models = await getJson(`${gw.url}/v1/models`);
    keep(models.headers, models.text);

    for (const [i, text] of seen.entries()) assertNoSecret(text, `response #${i}`);
  });

  test('the emulator received the key as a bearer token', async () => {
    const got = modelRequests(await emulator.requests(emu.url));
    assert.ok(got.length >= 5);
    for (const r of got) assert.equal(r.headers.authorization, `Bearer ${SECRET}`);
  });

  test('stdout, stderr and the ledger file bytes hold no trace of the key', async () => {
    const result = await gw.stop();
    assert.equal(result.code, 0, result.stderr);
    assert.deepEqual(sanitizerReports(result.stderr), []);
    assertNoSecret(result.stdout, 'stdout');
    assertNoSecret(result.stderr, 'stderr');
    let files = 0;
    for (const suffix of ['', '-wal', '-journal', '-shm']) {
      const p = dbPath + suffix;
      if (!existsSync(p)) continue;
      ++files;
      const bytes = readFileSync(p);
      for (const f of FRAGMENTS) {
        assert.equal(bytes.indexOf(Buffer.from(f)), -1, `secret found in ${path.basename(p)}`);
      }
    }
    assert.ok(files >= 1, 'the ledger file exists');
  });
});
