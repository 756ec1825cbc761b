// Server hardening against the real binary: an address already in use fails the start, bad
// framing cannot smuggle a request, and the connection limit and the body budget answer 503 in
// the client's dialect with a ledger row. Raw sockets only where limits are counted, so that
// no pooled keep-alive connection of fetch() takes a slot.
import assert from 'node:assert/strict';
import net from 'node:net';
import { after, before, describe, test } from 'node:test';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';

import {
  DEFAULT_KEY_ENV, assertOpenAIError, ledgerRows, pollUntil, rawExchange, runToExit,
  sanitizerReports, startEmulator, startServe, tempDir, testConfigYaml,
} from '../testutil/harness.mjs';

const CHAT = 'POST /v1/chat/completions HTTP/1.1\r\nHost: gw\r\n';
const MESSAGES = 'POST /v1/messages HTTP/1.1\r\nHost: gw\r\n';

// A connection that has been answered once and stays open (keep-alive), holding a slot.
function holdConnection(baseUrl) {
  const url = new URL(baseUrl);
  return new Promise((resolve, reject) => {
    const sock = net.connect({ host: url.hostname, port: Number(url.port) });
    const timer = setTimeout(() => reject(new Error('no answer on the held connection')), 10000);
    sock.on('error', reject);
    sock.once('data', () => {
      clearTimeout(timer);
      resolve(sock);
    });
    sock.on('connect', () => sock.write('GET /v1/models HTTP/1.1\r\nHost: gw\r\n\r\n'));
  });
}

async function gateway(server) {
  const emu = await startEmulator();
  const stateDir = tempDir();
  const dbPath = path.join(stateDir, 'ledger.db');
  const gw = await startServe(testConfigYaml({ emulatorUrl: emu.url, dbPath, server }));
  return {
    emu, gw, dbPath,
    async close() {
      await gw.stop();
      assert.deepEqual(sanitizerReports(gw.proc.stderr()), []);
      gw.cleanup();
      await emu.stop();
      rmSync(stateDir, { recursive: true, force: true });
    },
  };
}

async function expectLedgerRow(dbPath, response, status) {
  const id = response.headers['x-switchyard-request-id'];
  assert.ok(id, 'the answer carries x-switchyard-request-id');
  const rows = await pollUntil(async () => {
    const r = await ledgerRows(dbPath, [id]);
    return r.length ? r : undefined;
  });
  assert.equal(rows[0].status, status);
}

describe('server hardening', () => {
  let g;
  before(async () => {
    g = await gateway({});
  });
  after(async () => {
    await g?.close();
  });

  test('a second instance on the same address exits 2 and says why', async () => {
    const hostPort = new URL(g.gw.url).host;
    // Its own spill file: one spill belongs to one process (that is refused first otherwise).
    const config = path.join(g.gw.dir, 'second.yaml');
    writeFileSync(config, readFileSync(g.gw.configPath, 'utf8').replace(/^( +)sqlite_path: .*$/m,
      (line, indent) => `${line}\n${indent}spill_path: ${JSON.stringify(path.join(g.gw.dir, 'second.spill'))}`));
    const second = await runToExit(['serve', '--config', config, '--listen', hostPort],
      { env: { [DEFAULT_KEY_ENV]: 'sk-test-upstream' } });
    assert.equal(second.code, 2, `exit code; stderr: ${second.stderr}`);
    assert.match(second.stderr, new RegExp(`cannot listen on ${hostPort}: address already in use`));
    // The first one still answers everything.
    const ex = await rawExchange(g.gw.url,
      ['GET /v1/models HTTP/1.1\r\nHost: gw\r\nConnection: close\r\n\r\n']);
    assert.equal(ex.response?.status, 200);
  });

  for (const te of ['identity', 'gzip', 'chunked, identity']) {
    test(`Transfer-Encoding: ${te} -> 400 and the smuggled request is never answered`, async () => {
      const ex = await rawExchange(g.gw.url, [
        `${CHAT}Transfer-Encoding: ${te}\r\nContent-Type: application/json\r\n\r\n` +
          'GET /v1/models HTTP/1.1\r\nHost: gw\r\n\r\n',
      ]);
      assert.ok(ex.closedByServer || ex.error, 'the server closes the connection');
      assert.equal(ex.response?.status, 400, ex.raw.toString('latin1'));
      assertOpenAIError(assert, ex.response.json, { status: 400 });
      assert.match(ex.response.json.error.message, /Transfer-Encoding|transfer coding/);
      const text = ex.raw.toString('latin1');
      assert.equal(text.split('HTTP/1.1 ').length - 1, 1, `one answer only: ${text}`);
      await expectLedgerRow(g.dbPath, ex.response, 400);
    });
  }

  test('an HTTP/1.1 request without Host -> 400', async () => {
    const ex = await rawExchange(g.gw.url, ['GET /v1/models HTTP/1.1\r\n\r\n']);
    assert.equal(ex.response?.status, 400);
    assert.match(ex.response.json.error.message, /Host/);
  });
});

describe('connection limit', () => {
  let g;
  before(async () => {
    g = await gateway({ max_connections: 2 });
  });
  after(async () => {
    await g?.close();
  });

  test('past max_connections: 503 overloaded in each dialect, a ledger row, then service resumes',
    async () => {
      const held = [await holdConnection(g.gw.url), await holdConnection(g.gw.url)];
      const body = '{"model":"economy","messages":[{"role":"user","content":"hi"}]}';
      const openai = await rawExchange(g.gw.url, [
        `${CHAT}Content-Type: application/json\r\nContent-Length: ${body.length}\r\n\r\n${body}`,
      ]);
      assert.equal(openai.response?.status, 503, openai.raw.toString('latin1'));
      assert.equal(openai.response.json.error.type, 'server_error');
      assert.equal(openai.response.json.error.code, 'overloaded');
      await expectLedgerRow(g.dbPath, openai.response, 503);

      const anthropic = await rawExchange(g.gw.url, [
        `${MESSAGES}Content-Type: application/json\r\nContent-Length: ${body.length}\r\n\r\n${body}`,
      ]);
      assert.equal(anthropic.response?.status, 503);
      assert.equal(anthropic.response.json.type, 'error');
      assert.equal(anthropic.response.json.error.type, 'overloaded_error');

      for (const s of held) s.destroy();
      const ok = await pollUntil(async () => {
        const ex = await rawExchange(g.gw.url,
          ['GET /v1/models HTTP/1.1\r\nHost: gw\r\nConnection: close\r\n\r\n']);
        return ex.response?.status === 200 ? ex : undefined;
      }, { timeoutMs: 20000 });
      assert.equal(ok.response.status, 200);
    });
});

describe('body budget', () => {
  let g;
  before(async () => {
    g = await gateway({ max_body_bytes: 65536, max_buffered_body_bytes: 100000 });
  });
  after(async () => {
    await g?.close();
  });

  test('a body past max_buffered_body_bytes -> 503 while a stalled upload holds the budget',
    async () => {
      const url = new URL(g.gw.url);
      const stalled = net.connect({ host: url.hostname, port: Number(url.port) });
      stalled.on('error', () => {});
      // The server reserves the body's bytes before it answers 100 Continue: once that arrives,
      // the stalled upload holds the budget (without the wait, a poll below could be read
      // first, hold the budget itself, and get the stalled upload refused instead).
      const continued = new Promise((resolve) => {
        stalled.once('data', (d) => resolve(d.toString('latin1')));
      });
      stalled.write(`${CHAT}Content-Type: application/json\r\nContent-Length: 65536\r\n` +
        'Expect: 100-continue\r\n\r\n');
      assert.match(await continued, /^HTTP\/1\.1 100 Continue/);
      stalled.write('{');
      const body = `{"model":"economy","messages":[{"role":"user","content":"${'a'.repeat(60000)}"}]}`;
      // The client waits for 100 Continue before sending the body, as curl does for large
      // bodies: the 503 comes instead, and no half-sent body races the server's close (under
      // load that race ended in a reset instead of the answer).
      const refused = await pollUntil(async () => {
        const ex = await rawExchange(g.gw.url, [
          `${CHAT}Content-Type: application/json\r\nContent-Length: ${body.length}\r\n` +
            'Expect: 100-continue\r\nConnection: close\r\n\r\n',
        ]);
        console.log('POLL', ex.response?.status, ex.error?.message, ex.raw.length, ex.raw.toString().slice(0,60));
        return ex.response?.status === 503 ? ex : undefined;
      }, { timeoutMs: 20000 });
      assert.equal(refused.response.json.error.code, 'overloaded');
      assert.match(refused.response.json.error.message, /max_buffered_body_bytes/);
      await expectLedgerRow(g.dbPath, refused.response, 503);

      stalled.destroy();  // its reservation is returned
      const served = await pollUntil(async () => {
        const ex = await rawExchange(g.gw.url, [
          `${CHAT}Content-Type: application/json\r\nContent-Length: ${body.length}\r\n` +
            `Connection: close\r\n\r\n${body}`,
        ]);
        return ex.response?.status === 200 ? ex : undefined;
      }, { timeoutMs: 20000 });
      assert.equal(served.response.status, 200);
    });
});
