// An upstream that echoes the gateway's own API key in an error message (400/404/500/503/529,
// plain and streamed) gets it scrubbed: the key reaches neither the client, nor the ledger
// file, nor stdout/stderr. The errors still reach the ledger, with "[redacted]" in their place.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';

import {
  chat, emulator, sanitizerReports, sqlite, startEmulator, startServe, streamChat, tempDir,
  testConfigYaml, userMessage,
} from '../testutil/harness.mjs';

const SECRET = `sk-scrub-${randomBytes(16).toString('hex')}`;
// Fragments a partial leak (a cut message, a masked key) would still show.
const FRAGMENTS = [SECRET, SECRET.slice(9, 25), SECRET.slice(-12)];

function assertNoSecret(text, where) {
  for (const f of FRAGMENTS) assert.ok(!text.includes(f), `secret (or a fragment) found in ${where}`);
}

describe('upstream error text that echoes the key', () => {
  let emu;
  let gw;
  let dir;
  let dbPath;
  before(async () => {
    emu = await startEmulator();
    dir = tempDir();
    dbPath = path.join(dir, 'ledger.db');
    gw = await startServe(
      testConfigYaml({ emulatorUrl: emu.url, dbPath, apiKeyEnv: 'SY_SCRUB_UPSTREAM_KEY' }),
      { env: { SY_SCRUB_UPSTREAM_KEY: SECRET } });
  });
  after(async () => {
    await gw?.stop();
    await emu?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  // The upstream's status and what the client gets (docs/api.md, "Errors"): a refusal passes
  // through, a server error is a 502, Anthropic-style overload a 503.
  for (const [status, answered] of [[400, 400], [404, 404], [500, 502], [503, 502], [529, 503]]) {
    test(`${status}: the client's answer holds no key`, async () => {
      await emulator.addFault(emu.url, {
        model: 'gpt-5.5', status, count: 10, message: `Incorrect API key provided: ${SECRET}.`,
      });
      const res = await chat(gw.url, { model: 'gpt-5.5', messages: userMessage() });
      await emulator.clearFaults(emu.url);
      assert.equal(res.status, answered, res.text);
      assertNoSecret(JSON.stringify([...res.headers.entries()]), 'response headers');
      assertNoSecret(res.text, 'response body');
    });
  }

  test('streamed request: the error before the first byte holds no key', async () => {
    await emulator.addFault(emu.url, {
      model: 'gpt-5.5', status: 400, count: 10, message: `bad key ${SECRET}`,
    });
    const s = await streamChat(gw.url, { model: 'gpt-5.5', stream: true, messages: userMessage() });
    await emulator.clearFaults(emu.url);
    assert.equal(s.status, 400, s.raw);
    assertNoSecret(JSON.stringify({ ...s.headers, ...s.trailers }), 'stream headers');
    assertNoSecret(s.raw, 'stream body');
  });

  test('the ledger recorded the errors, redacted; no file, stdout or stderr holds the key', async () => {
    const result = await gw.stop();
    assert.equal(result.code, 0, result.stderr);
    assert.deepEqual(sanitizerReports(result.stderr), []);
    assertNoSecret(result.stdout, 'stdout');
    assertNoSecret(result.stderr, 'stderr');
    const redacted = await sqlite(dbPath,
      "SELECT error_message FROM attempts WHERE error_message LIKE '%[redacted]%'");
    assert.ok(redacted.length >= 5, `redacted upstream errors in the ledger: ${redacted.length}`);
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
