// HTTP helpers for the process-level tests: JSON requests in both dialects, SSE streams with
// their trailers, raw sockets for malformed HTTP, and the OpenAI error-shape assertion.
import http from 'node:http';
import net from 'node:net';

// Status, headers, body text and, when the body is JSON, its parsed value.
async function readAnswer(res) {
  const text = await res.text();
  let json;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  return { status: res.status, headers: res.headers, text, json };
}

export async function getJson(url) {
  return readAnswer(await fetch(url));
}

// POST a JSON body (an object, or a string/Buffer sent as is) and read the whole answer.
export async function postJson(url, body, { headers = {} } = {}) {
  const payload = typeof body === 'string' || Buffer.isBuffer(body) ? body : JSON.stringify(body);
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: payload,
  });
  return readAnswer(res);
}

export function chat(baseUrl, body, opts) {
  return postJson(`${baseUrl}/v1/chat/completions`, body, opts);
}

// Anthropic Messages: POST /v1/messages with the anthropic-version header every SDK sends.
export const ANTHROPIC_HEADERS = { 'anthropic-version': '2023-06-01', 'x-api-key': 'sk-ant-test' };

export function messages(baseUrl, body, { headers = {} } = {}) {
  return postJson(`${baseUrl}/v1/messages`, body, { headers: { ...ANTHROPIC_HEADERS, ...headers } });
}

export function streamMessages(baseUrl, body, opts = {}) {
  return streamChat(baseUrl, body, { ...opts, path: '/v1/messages',
    headers: { ...ANTHROPIC_HEADERS, ...opts.headers } });
}

export function userMessage(text = 'Say hello') {
  return [{ role: 'user', content: text }];
}

// A streamed answer over node:http (so HTTP trailers are visible), from /v1/chat/completions
// unless `path` says otherwise. Resolves when the
// response ends or the socket closes: {status, headers, events: [{data, event, json, t}],
// trailers, raw, startedAt, endedAt, aborted}. Times are performance.now() milliseconds.
// `onEvent(event)` is called as each event arrives.
export function streamChat(baseUrl, body,
  { headers = {}, timeoutMs = 60000, onEvent, path = '/v1/chat/completions' } = {}) {
  const url = new URL(`${baseUrl}${path}`);
  const payload = JSON.stringify(body);
  return new Promise((resolve, reject) => {
    const startedAt = performance.now();
    const req = http.request(
      {
        host: url.hostname,
        port: url.port,
        path: url.pathname,
        method: 'POST',
        headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload),
          ...headers },
      },
      (res) => {
        const events = [];
        let raw = '';
        let pending = '';
        let aborted = false;
        res.setEncoding('utf8');
        res.on('data', (d) => {
          const t = performance.now();
          raw += d;
          pending += d;
          let sep;
          while ((sep = pending.search(/\r?\n\r?\n/)) >= 0) {
            const block = pending.slice(0, sep);
            pending = pending.slice(sep + pending.slice(sep).match(/^\r?\n\r?\n/)[0].length);
            const ev = parseSseBlock(block);
            if (ev) {
              events.push({ ...ev, t });
              onEvent?.(events.at(-1));
            }
          }
        });
        res.on('aborted', () => {
          aborted = true;
        });
        const finish = () => {
          clearTimeout(timer);
          resolve({ status: res.statusCode, headers: res.headers, events, trailers: res.trailers,
            raw, startedAt, endedAt: performance.now(), aborted, complete: res.complete });
        };
        res.on('end', finish);
        res.on('error', () => {
          aborted = true;
          finish();
        });
      },
    );
    const timer = setTimeout(() => {
      req.destroy(new Error(`stream did not finish within ${timeoutMs} ms`));
    }, timeoutMs);
    req.on('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
    req.end(payload);
  });
}

function parseSseBlock(block) {
  const dataLines = [];
  let event;
  for (const line of block.split(/\r?\n/)) {
    if (line.startsWith(':') || line === '') continue;
    const colon = line.indexOf(':');
    const field = colon < 0 ? line : line.slice(0, colon);
    let value = colon < 0 ? '' : line.slice(colon + 1);
    if (value.startsWith(' ')) value = value.slice(1);
    if (field === 'data') dataLines.push(value);
    if (field === 'event') event = value;
  }
  if (dataLines.length === 0) return null;
  const data = dataLines.join('\n');
  let json;
  try {
    json = JSON.parse(data);
  } catch {
    json = undefined;
  }
  return { data, event, json };
}

// Content text of streamed chat chunks.
export function streamedText(events) {
  return events
    .map((e) => e.json?.choices?.[0]?.delta?.content ?? '')
    .join('');
}

// ---------------------------------------------------------------------------------------------
// Raw sockets (malformed HTTP, slow clients)

// Opens a TCP connection to baseUrl's host:port, writes `parts` in order (strings or Buffers;
// a number in the list waits that many ms before the next part - for slow-client tests only),
// then collects everything until the server closes or `timeoutMs` passes. Resolves
// {raw: Buffer, closedByServer, error, elapsedMs, response: parseHttpResponse(raw)}.
export function rawExchange(baseUrl, parts, { timeoutMs = 10000, endAfterWrite = false } = {}) {
  const url = new URL(baseUrl);
  return new Promise((resolve) => {
    const started = performance.now();
    const chunks = [];
    let error;
    let closedByServer = false;
    const sock = net.connect({ host: url.hostname, port: Number(url.port) });
    const timer = setTimeout(() => sock.destroy(), timeoutMs);
    sock.on('data', (d) => chunks.push(d));
    sock.on('end', () => {
      closedByServer = true;
      sock.end();
    });
    sock.on('error', (e) => {
      error = e;
    });
    sock.on('close', () => {
      clearTimeout(timer);
      const raw = Buffer.concat(chunks);
      resolve({ raw, closedByServer, error, elapsedMs: performance.now() - started,
        response: parseHttpResponse(raw) });
    });
    sock.on('connect', async () => {
      for (const part of parts) {
        if (typeof part === 'number') {
          await new Promise((r) => setTimeout(r, part));
          continue;
        }
        if (sock.destroyed) return;
        sock.write(part);
      }
      if (endAfterWrite) sock.end();
    });
  });
}

// Parses the first HTTP/1.1 response in `raw` (content-length or chunked). null if none.
export function parseHttpResponse(raw) {
  const text = raw.toString('latin1');
  const headEnd = text.indexOf('\r\n\r\n');
  if (headEnd < 0) return null;
  const lines = text.slice(0, headEnd).split('\r\n');
  const m = lines[0].match(/^HTTP\/1\.[01] (\d{3})/);
  if (!m) return null;
  const headers = {};
  for (const line of lines.slice(1)) {
    const c = line.indexOf(':');
    if (c > 0) headers[line.slice(0, c).trim().toLowerCase()] = line.slice(c + 1).trim();
  }
  let rest = raw.subarray(Buffer.byteLength(text.slice(0, headEnd + 4), 'latin1'));
  let body;
  if (headers['content-length'] !== undefined) {
    body = rest.subarray(0, Number(headers['content-length']));
  } else if (/chunked/i.test(headers['transfer-encoding'] ?? '')) {
    const parts = [];
    let s = rest.toString('latin1');
    for (;;) {
      const nl = s.indexOf('\r\n');
      if (nl < 0) break;
      const size = parseInt(s.slice(0, nl), 16);
      if (!size) break;
      parts.push(s.slice(nl + 2, nl + 2 + size));
      s = s.slice(nl + 2 + size + 2);
    }
    body = Buffer.from(parts.join(''), 'latin1');
  } else {
    body = rest;
  }
  const bodyText = body.toString('utf8');
  let json;
  try {
    json = JSON.parse(bodyText);
  } catch {
    json = undefined;
  }
  return { status: Number(m[1]), headers, body: bodyText, json };
}

// The OpenAI error shape: {"error":{"message","type","param","code"}}.
export function assertOpenAIError(assert, json, { status, param, type } = {}) {
  const where = status ? ` (HTTP ${status})` : '';
  assert.ok(json && typeof json === 'object', `error body is JSON${where}`);
  assert.ok(json.error && typeof json.error === 'object', `body has "error"${where}: ${JSON.stringify(json)}`);
  const e = json.error;
  assert.equal(typeof e.message, 'string', `error.message is a string${where}`);
  assert.ok(e.message.length > 0, `error.message is not empty${where}`);
  assert.equal(typeof e.type, 'string', `error.type is a string${where}`);
  assert.ok('param' in e, `error.param present${where}`);
  assert.ok('code' in e, `error.code present${where}`);
  assert.ok(e.param === null || typeof e.param === 'string', `error.param string|null${where}`);
  assert.ok(e.code === null || typeof e.code === 'string', `error.code string|null${where}`);
  if (param !== undefined) assert.equal(e.param, param, `error.param${where}: ${e.message}`);
  if (type !== undefined) assert.equal(e.type, type, `error.type${where}`);
}


// ---------------------------------------------------------------------------------------------
// Client keys and the admin API (issue 19)

// Any method; `body` an object (sent as JSON), a string sent as is, or undefined for none.
export async function requestJson(url, { method = 'GET', headers = {}, body } = {}) {
  const payload = body === undefined || typeof body === 'string' ? body : JSON.stringify(body);
  const res = await fetch(url, {
    method,
    headers: payload === undefined ? headers : { 'content-type': 'application/json', ...headers },
    body: payload,
  });
  return readAnswer(res);
}

export const bearer = (key) => ({ authorization: `Bearer ${key}` });
// What Anthropic's SDK sends: the key in x-api-key, no Authorization.
export const anthropicKey = (key) => ({ 'anthropic-version': '2023-06-01', 'x-api-key': key });

// The admin API of the gateway at `baseUrl` with `token` (Authorization: Bearer). Each method
// resolves the answer ({status, headers, text, json}); create() asserts the 201 and returns the
// key object with its "key".
export function adminApi(baseUrl, token) {
  const call = (method, route, body, headers = {}) => requestJson(`${baseUrl}${route}`,
    { method, body, headers: token === undefined ? headers : { ...bearer(token), ...headers } });
  const api = {
    call,
    get: (route) => call('GET', route),
    post: (route, body) => call('POST', route, body),
    put: (route, body) => call('PUT', route, body),
    patch: (route, body) => call('PATCH', route, body),
    del: (route) => call('DELETE', route),
    async create(spec) {
      const res = await call('POST', '/admin/keys', spec);
      if (res.status !== 201 || typeof res.json?.key !== 'string') {
        throw new Error(`POST /admin/keys ${JSON.stringify(spec)} -> ${res.status}: ${res.text}`);
      }
      return res.json;
    },
    async spend(query) {
      const res = await call('GET', `/admin/spend?${new URLSearchParams(query)}`);
      if (res.status !== 200) throw new Error(`GET /admin/spend ${JSON.stringify(query)} -> ${res.status}: ${res.text}`);
      return res.json;
    },
  };
  return api;
}
