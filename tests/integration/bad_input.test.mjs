// Bad input: each gets the right status, an OpenAI-shaped error and a ledger row, and the process
// keeps serving. Runs `serve` with small limits (64 KiB body, 8 KiB headers, 400 ms read timeout)
// against a separately started emulator.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { rmSync } from 'node:fs';
import path from 'node:path';

import {
  assertOpenAIError, chat, getJson, ledgerRows, pollUntil, postJson, rawExchange, sanitizerReports,
  sqlite, startEmulator, startServe, tempDir, testConfigYaml, userMessage,
} from '../testutil/harness.mjs';

const MAX_BODY = 65536;
const MAX_HEADERS = 8192;
const READ_TIMEOUT_MS = 400;

describe('bad input', () => {
  let emu;
  let gw;
  let dbPath;
  let stateDir;
  before(async () => {
    emu = await startEmulator();
    stateDir = tempDir();
    dbPath = path.join(stateDir, 'ledger.db');
    const yaml = testConfigYaml({
      emulatorUrl: emu.url,
      dbPath,
      server: { max_body_bytes: MAX_BODY, max_header_bytes: MAX_HEADERS,
        request_read_timeout_ms: READ_TIMEOUT_MS },
    });
    gw = await startServe(yaml);
  });
  after(async () => {
    await gw?.stop();
    gw?.cleanup();
    await emu?.stop();
    if (stateDir) rmSync(stateDir, { recursive: true, force: true });
  });

  // Checks status, shape and the ledger row of one error answer from fetch.
  async function expectError(res, status, { param, code } = {}) {
    assert.equal(res.status, status, `status; body: ${res.text}`);
    assertOpenAIError(assert, res.json, { status, param });
    if (code !== undefined) assert.equal(res.json.error.code, code, 'error.code');
    const id = res.headers.get('x-switchyard-request-id');
    assert.ok(id, 'error answers carry x-switchyard-request-id');
    const rows = await ledgerRows(dbPath, [id]);
    assert.equal(rows.length, 1, `exactly one ledger row for ${id}`);
    assert.equal(rows[0].status, status, 'ledger status');
    assert.notEqual(rows[0].error_code, '', 'ledger error_code');
    assert.equal(rows[0].cost_pico, 0);
    return rows[0];
  }

  test('malformed JSON -> 400', async () => {
    const res = await chat(gw.url, '{"model": "economy", "messages": [');
    await expectError(res, 400);
    assert.equal(res.json.error.type, 'invalid_request_error');
  });

  test('messages: "hi" -> 400 with param messages', async () => {
    await expectError(await chat(gw.url, { model: 'economy', messages: 'hi' }), 400,
      { param: 'messages' });
  });

  test('stream: "yes" -> 400 with param stream', async () => {
    await expectError(await chat(gw.url, { model: 'economy', messages: userMessage(), stream: 'yes' }),
      400, { param: 'stream' });
  });

  test('missing messages -> 400 with param messages', async () => {
    await expectError(await chat(gw.url, { model: 'economy' }), 400, { param: 'messages' });
  });

  test('unknown model -> 404 model_not_found with param model', async () => {
    const res = await chat(gw.url, { model: 'gpt-9-ultra', messages: userMessage() });
    const row = await expectError(res, 404, { param: 'model', code: 'model_not_found' });
    assert.match(res.json.error.message, /gpt-9-ultra/);
    assert.equal(row.requested_model, 'gpt-9-ultra');
  });

  test('body over the limit -> 413', async () => {
    const big = { model: 'economy', messages: userMessage('x'.repeat(MAX_BODY + 1024)) };
    await expectError(await chat(gw.url, big), 413, { code: 'request_too_large' });
  });

  test('body over the limit announced by content-length, not sent -> 413 at once', async () => {
    const head = 'POST /v1/chat/completions HTTP/1.1\r\nHost: 127.0.0.1\r\n' +
      `Content-Type: application/json\r\nContent-Length: ${MAX_BODY * 16}\r\n\r\n{"model":`;
    const ex = await rawExchange(gw.url, [head], { timeoutMs: 5000 });
    assert.ok(ex.response, `an HTTP response arrived: ${JSON.stringify(ex.raw.toString('latin1'))}`);
    assert.equal(ex.response.status, 413);
    assertOpenAIError(assert, ex.response.json, { status: 413 });
    assert.ok(ex.elapsedMs < READ_TIMEOUT_MS * 5, `answered in ${ex.elapsedMs.toFixed(0)} ms`);
  });

  test('header block over the limit -> 431', async () => {
    const res = await postJson(`${gw.url}/v1/chat/completions`,
      { model: 'economy', messages: userMessage() },
      { headers: { 'x-padding': 'a'.repeat(MAX_HEADERS + 100) } });
    await expectError(res, 431, { code: 'headers_too_large' });
  });

  test('invalid UTF-8 inside a JSON string -> 400', async () => {
    const body = Buffer.concat([
      Buffer.from('{"model":"economy","messages":[{"role":"user","content":"ab'),
      Buffer.from([0xff, 0xfe, 0xc3]),
      Buffer.from('"}]}'),
    ]);
    await expectError(await chat(gw.url, body), 400);
  });

  test('deeply nested JSON -> 400', async () => {
    const depth = 5000;
    const body = `{"model":"economy","messages":[{"role":"user","content":"hi"}],"metadata":${'['.repeat(depth)}${']'.repeat(depth)}}`;
    const res = await chat(gw.url, body);
    await expectError(res, 400);
    assert.match(res.json.error.message, /nest|deep/i);
  });

  // RFC 9110 §15.5.6: a known endpoint asked with another method is a 405 listing the right ones
  // (in the Allow header), recorded like every refusal.
  test('known endpoint, another method -> 405 with Allow', async () => {
    const cases = [
      ['GET', '/v1/chat/completions', 'POST'],
      ['POST', '/v1/models', 'GET, HEAD'],
      ['PUT', '/v1/responses/resp_x', 'GET, HEAD, DELETE'],
      ['DELETE', '/v1/route/explain', 'POST'],
    ];
    for (const [method, route, allow] of cases) {
      const res = await fetch(`${gw.url}${route}`, { method });
      const text = await res.text();
      await expectError({ status: res.status, headers: res.headers, text, json: JSON.parse(text) },
        405, { code: 'method_not_allowed' });
      assert.equal(res.headers.get('allow'), allow, `${method} ${route}`);
    }
    const anthropic = await fetch(`${gw.url}/v1/messages`, { method: 'PUT' });
    assert.equal(anthropic.status, 405);
    assert.equal(anthropic.headers.get('allow'), 'POST');
    const body = await anthropic.json();
    assert.equal(body.type, 'error', 'in the dialect of the path');
    assert.equal(body.error.type, 'invalid_request_error');
  });

  test('unknown endpoint -> 404 (and not called model_not_found)', async () => {
    const post = await postJson(`${gw.url}/v1/nope`, { model: 'economy' });
    await expectError(post, 404);
    assert.notEqual(post.json.error.code, 'model_not_found',
      `an unknown URL is not an unknown model: ${post.text}`);
    const get = await fetch(`${gw.url}/v2/whatever`);
    const text = await get.text();
    assert.equal(get.status, 404);
    assertOpenAIError(assert, JSON.parse(text), { status: 404 });
  });

  test('slow client: half a request, then silence -> 408', async () => {
    const head = 'POST /v1/chat/completions HTTP/1.1\r\nHost: 127.0.0.1\r\n' +
      'Content-Type: application/json\r\nContent-Length: 200\r\n\r\n{"model":"econ';
    const ex = await rawExchange(gw.url, [head], { timeoutMs: READ_TIMEOUT_MS * 10 });
    assert.ok(ex.closedByServer || ex.error, 'the server ended the connection');
    assert.ok(ex.elapsedMs >= READ_TIMEOUT_MS * 0.9,
      `not before the read timeout (${ex.elapsedMs.toFixed(0)} ms)`);
    assert.ok(ex.response,
      `an HTTP 408 answer before the close; got ${ex.raw.length} bytes: ${JSON.stringify(ex.raw.toString('latin1'))}` +
      (ex.error ? ` (socket error ${ex.error.code})` : ''));
    assert.equal(ex.response.status, 408);
    assertOpenAIError(assert, ex.response.json, { status: 408 });
    const id = ex.response.headers['x-switchyard-request-id'];
    const rows = await ledgerRows(dbPath, [id]);
    assert.equal(rows[0]?.status, 408);
  });

  test('slow client: ledger row with status 408 even if the answer is lost', async () => {
    const head = 'POST /v1/chat/completions HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 50\r\n\r\n{';
    const count = async () =>
      (await sqlite(dbPath, 'SELECT COUNT(*) AS n FROM requests WHERE status = 408'))[0].n;
    const before = await count();
    await rawExchange(gw.url, [head], { timeoutMs: READ_TIMEOUT_MS * 10 });
    const after_ = await pollUntil(async () => ((await count()) > before ? count() : null),
      { timeoutMs: 3000 }) ?? before;
    assert.equal(after_, before + 1, 'one more ledger row with status 408');
  });

  test('garbage bytes instead of HTTP -> 400', async () => {
    const garbage = Buffer.from([0x16, 0x03, 0x01, 0x02, 0x00, 0x01, 0x00, 0x01, 0xfc, 0x03, 0x03,
      0xde, 0xad, 0xbe, 0xef, 0x0d, 0x0a, 0x0d, 0x0a]);
    const ex = await rawExchange(gw.url, [garbage], { timeoutMs: 5000 });
    assert.ok(ex.response, `an HTTP answer to garbage; got ${JSON.stringify(ex.raw.toString('latin1'))}`);
    assert.equal(ex.response.status, 400);
    assertOpenAIError(assert, ex.response.json, { status: 400 });
    const id = ex.response.headers['x-switchyard-request-id'];
    assert.ok(id);
    const rows = await ledgerRows(dbPath, [id]);
    assert.equal(rows[0]?.status, 400);
  });

  test('still alive and serving afterwards; SIGTERM exits 0 without sanitizer reports', async () => {
    assert.ok(gw.proc.running, 'serve still running');
    const health = await getJson(`${gw.url}/healthz`);
    assert.equal(health.status, 200);
    const ok = await chat(gw.url, { model: 'economy', messages: userMessage() });
    assert.equal(ok.status, 200, ok.text);
    const result = await gw.stop();
    assert.deepEqual(sanitizerReports(result.stderr), []);
    assert.equal(result.code, 0, result.stderr);
  });
});
