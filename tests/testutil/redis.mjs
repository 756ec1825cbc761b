// A real, throwaway Redis server for the process-level tests (the gateway's shared state,
// shared/). The Node twin of tests/testutil/redis_server.h; the same rules:
//
// - Binary: `redis-server` from PATH, else /usr/bin/redis-server (Debian package `redis-server`).
//   Redis runs as whoever runs the test, root included.
// - Test-only settings, in a config file in a fresh temporary directory: loopback only on a free
//   port (never the 6379 of a system redis), protected mode, no persistence at all (`save ""`,
//   `appendonly no`), the log in the directory, `requirepass` when a password is given.
// - Every process has a hard deadline: the server runs under `timeout -s TERM 1800` (SIGKILL 15 s
//   later); each command() has one of its own. stop() is SIGTERM to redis-server (it shuts down
//   without saving: nothing is configured to be saved), a bounded wait, then SIGKILL to the
//   server's process group. When the test process exits, every server still running is stopped
//   the same way (synchronously, bounded) and every directory removed. A test process killed by
//   a signal leaves the server to its deadline.
// - Readiness is a PING answered over RESP by our own redis-server (INFO's process_id is the
//   wrapper's child), polled every 10 ms up to a deadline; exits are process events.
//
// Node 18+ built-ins only; RESP2 is spoken here over node:net.
import { accessSync, constants, mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { SupervisedServer, tail } from './process.mjs';

const READY_TIMEOUT_MS = 10000;
const STOP_TIMEOUT_MS = 10000;
const EXIT_STOP_TIMEOUT_MS = 5000; // in the process 'exit' handler, which blocks
const COMMAND_TIMEOUT_MS = 10000;
const PROBE_TIMEOUT_MS = 250; // a readiness probe; a foreign listener may never answer
const PROBE_INTERVAL_MS = 10;
const LIFETIME_S = 1800;
const KILL_AFTER_S = 15;
const START_ATTEMPTS = 5; // fresh ports tried when redis-server cannot bind one
const LOG_TAIL = 2000;

// `redis-server` from PATH, else /usr/bin/redis-server.
export function redisServerBin() {
  const dirs = (process.env.PATH || '/usr/bin:/bin').split(':');
  for (const candidate of [...dirs.map((d) => path.join(d || '.', 'redis-server')),
    '/usr/bin/redis-server']) {
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not here
    }
  }
  throw new Error('redis-server not found in PATH nor /usr/bin (install the Debian package '
    + 'redis-server)');
}

function readFrom(file, offset = 0) {
  try {
    return readFileSync(file).subarray(offset).toString('utf8');
  } catch {
    return '';
  }
}

function fileSize(file) {
  try {
    return statSync(file).size;
  } catch {
    return 0;
  }
}

// ---------------------------------------------------------------------------------------------
// RESP2

// An error reply ("-ERR ..."): thrown by command() at the top level, an element of an array.
export class RedisReplyError extends Error {}

// One command as a RESP array of bulk strings; arguments are strings, Buffers or numbers.
function encodeCommand(args) {
  const parts = [Buffer.from(`*${args.length}\r\n`)];
  for (const arg of args) {
    const bytes = Buffer.isBuffer(arg) ? arg : Buffer.from(String(arg), 'utf8');
    parts.push(Buffer.from(`$${bytes.length}\r\n`), bytes, Buffer.from('\r\n'));
  }
  return Buffer.concat(parts);
}

// Parses one reply at buf[offset]: {value, offset} past it, or null when more bytes are needed.
// Simple strings and bulk strings become strings (UTF-8), integers numbers (BigInt beyond 2^53),
// nil null, errors RedisReplyError values, arrays arrays.
function parseReply(buf, offset) {
  const end = buf.indexOf('\r\n', offset);
  if (end < 0) return null;
  const type = String.fromCharCode(buf[offset]);
  const line = buf.toString('utf8', offset + 1, end);
  const next = end + 2;
  switch (type) {
    case '+':
      return { value: line, offset: next };
    case '-':
      return { value: new RedisReplyError(line), offset: next };
    case ':': {
      const big = BigInt(line);
      const value = big >= BigInt(Number.MIN_SAFE_INTEGER) && big <= BigInt(Number.MAX_SAFE_INTEGER)
        ? Number(big) : big;
      return { value, offset: next };
    }
    case '$': {
      const length = Number(line);
      if (length < 0) return { value: null, offset: next };
      if (buf.length < next + length + 2) return null;
      return { value: buf.toString('utf8', next, next + length), offset: next + length + 2 };
    }
    case '*': {
      const count = Number(line);
      if (count < 0) return { value: null, offset: next };
      const items = [];
      let at = next;
      for (let i = 0; i < count; i++) {
        const item = parseReply(buf, at);
        if (!item) return null;
        items.push(item.value);
        at = item.offset;
      }
      return { value: items, offset: at };
    }
    default:
      throw new Error(`RESP protocol error: unexpected type byte ${JSON.stringify(type)}`);
  }
}

// Sends `commands` pipelined on a fresh connection to 127.0.0.1:port and resolves with one reply
// per command once all arrived. Rejects on a connection error, an early close or the deadline.
function exchange(port, commands, timeoutMs) {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host: '127.0.0.1', port });
    let received = Buffer.alloc(0);
    const replies = [];
    let settled = false;
    const finish = (error) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.destroy();
      if (error) reject(error);
      else resolve(replies);
    };
    const timer = setTimeout(() => finish(new Error(
      `redis at 127.0.0.1:${port}: no reply within ${timeoutMs} ms`)), timeoutMs);
    socket.setNoDelay(true);
    socket.on('connect', () => socket.write(Buffer.concat(commands.map(encodeCommand))));
    socket.on('data', (chunk) => {
      received = Buffer.concat([received, chunk]);
      try {
        let at = 0;
        for (let r = parseReply(received, at); r; r = parseReply(received, at)) {
          replies.push(r.value);
          at = r.offset;
          if (replies.length === commands.length) {
            finish();
            return;
          }
        }
        received = received.subarray(at);
      } catch (e) {
        finish(e);
      }
    });
    socket.on('error', (e) => finish(new Error(`redis at 127.0.0.1:${port}: ${e.message}`)));
    socket.on('close', () => finish(new Error(
      `redis at 127.0.0.1:${port}: connection closed after ${replies.length} of `
      + `${commands.length} replies`)));
  });
}

// One command, AUTH first when there is a password: its reply, or a rejection with the
// server's error message.
async function runCommand(port, password, args, timeoutMs) {
  if (args.length === 0) throw new Error('redis: an empty command');
  const commands = password ? [['AUTH', password], args] : [args];
  const replies = await exchange(port, commands, timeoutMs);
  if (password && replies[0] instanceof RedisReplyError) {
    throw new Error(`redis AUTH refused: ${replies[0].message}`);
  }
  const reply = replies[replies.length - 1];
  if (reply instanceof RedisReplyError) throw new Error(`redis ${args[0]}: ${reply.message}`);
  return reply;
}

// ---------------------------------------------------------------------------------------------
// The server

// A redis.conf value in double quotes (the config parser's escapes), whatever it holds.
function quoted(value) {
  let out = '"';
  for (const byte of Buffer.from(value, 'utf8')) {
    if (byte === 0x22 || byte === 0x5c) out += `\\${String.fromCharCode(byte)}`;
    else if (byte < 0x20 || byte >= 0x7f) out += `\\x${byte.toString(16).padStart(2, '0')}`;
    else out += String.fromCharCode(byte);
  }
  return `${out}"`;
}

function parentPid(pid) {
  const stat = readFrom(`/proc/${pid}/stat`);
  const fields = stat.slice(stat.lastIndexOf(')') + 1).trim().split(' ');
  return Number(fields[1]); // after the state
}

// SIGTERM to redis-server (this.pid), bounded wait, SIGKILL to the process group.
class Server extends SupervisedServer {
  constructor(bin, password, dir) {
    super(dir, { tag: 'redis', signal: 'SIGTERM', lifetimeS: LIFETIME_S, killAfterS: KILL_AFTER_S,
      stopTimeoutMs: STOP_TIMEOUT_MS, exitStopTimeoutMs: EXIT_STOP_TIMEOUT_MS });
    this.bin = bin;
    this.password = password;
    this.conf = path.join(dir, 'redis.conf');
    this.logFile = path.join(dir, 'redis.log');
    this.output = ''; // what the wrapper wrote (a config error comes before the log file opens)
  }

  note(text) {
    this.output += text;
  }

  get url() {
    const auth = this.password ? `:${encodeURIComponent(this.password)}@` : '';
    return `redis://${auth}127.0.0.1:${this.port}`;
  }

  writeConfig() {
    const lines = [
      'bind 127.0.0.1',
      `port ${this.port}`,
      'protected-mode yes',
      'daemonize no',
      'save ""',
      'appendonly no',
      `dir ${quoted(this.dir)}`,
      `logfile ${quoted(this.logFile)}`,
      'always-show-logo no',
    ];
    if (this.password) lines.push(`requirepass ${quoted(this.password)}`);
    writeFileSync(this.conf, `${lines.join('\n')}\n`);
  }

  // Starts redis-server on this.port and resolves once it answers PING. Rejects (the server
  // stopped) on exit or deadline; error.portTaken says whether it could not bind the port.
  async launch() {
    this.writeConfig();
    const logFrom = fileSize(this.logFile);
    const child = this.spawn([this.bin, this.conf], {
      cwd: this.dir,
      onData: (d) => {
        this.output = (this.output + d).slice(-LOG_TAIL);
      },
    });
    const log = () => tail(this.output + readFrom(this.logFile, logFrom), LOG_TAIL);

    const deadline = Date.now() + READY_TIMEOUT_MS;
    for (;;) {
      if (this.wrapper !== child) {
        const e = new Error(`redis-server exited before answering PING on port ${this.port}:\n`
          + `${log()}`);
        e.portTaken = /Address already in use/.test(log());
        throw e;
      }
      // Ours, not another program on the port: INFO's process_id is the wrapper's child.
      try {
        if (await runCommand(this.port, this.password, ['PING'], PROBE_TIMEOUT_MS) === 'PONG') {
          const info = await runCommand(this.port, this.password, ['INFO', 'server'],
            PROBE_TIMEOUT_MS);
          const pid = Number(/process_id:(\d+)/.exec(info)?.[1] ?? 0);
          if (pid > 0 && parentPid(pid) === child.pid) {
            this.pid = pid;
            return;
          }
        }
      } catch {
        // not listening yet
      }
      if (Date.now() >= deadline) {
        await this.stop();
        throw new Error(`redis-server did not answer PING on port ${this.port} within `
          + `${READY_TIMEOUT_MS} ms:\n${log()}`);
      }
      await new Promise((r) => { setTimeout(r, PROBE_INTERVAL_MS); }); // a bounded poll
    }
  }

  log() {
    return this.output + readFrom(this.logFile);
  }
}

// Starts a server: a config file in a fresh temporary directory, redis-server on a free port
// (another one if that was taken meanwhile), waits until it answers PING. A password becomes
// `requirepass`. Rejects with the tail of the server's log; nothing is left behind then.
// Resolves with:
//   url            redis://127.0.0.1:PORT, or redis://:PASSWORD@127.0.0.1:PORT (percent-encoded)
//   port, dir      the port, the temporary directory (redis.conf, redis.log)
//   password       as given ('' for none)
//   pid            redis-server's pid while running, else 0
//   command(...a)  one command on a fresh connection (AUTH first with a password; bounded): the
//                  reply (string, number, null, array); rejects with the server's error message
//   stop()         SIGTERM, bounded wait, SIGKILL; idempotent
//   restart()      starts again on the same port and directory, EMPTY (nothing is persisted);
//                  resolves once ready
//   cleanup()      stop() and remove the directory (also done at process exit)
//   log()          the server's log so far
export async function startRedis({ password = '' } = {}) {
  const bin = redisServerBin();
  const dir = mkdtempSync(path.join(os.tmpdir(), 'sy-redis-'));
  const server = new Server(bin, password, dir);
  const cleanup = () => server.cleanup();
  try {
    await server.launchOnFreePort(START_ATTEMPTS);
  } catch (e) {
    await cleanup();
    throw e;
  }
  return {
    url: server.url,
    port: server.port,
    dir,
    password,
    get pid() {
      return server.pid;
    },
    command: (...args) => runCommand(server.port, password, args, COMMAND_TIMEOUT_MS),
    stop: () => server.stop(),
    restart: () => server.relaunch(),
    cleanup,
    log: () => server.log(),
  };
}
