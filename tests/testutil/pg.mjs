// A real, throwaway PostgreSQL server for the process-level tests (the ledger's PostgreSQL
// backend). The Node twin of tests/testutil/pg_server.h; the same rules:
//
// - Binaries: $SY_PG_BINDIR, else the highest /usr/lib/postgresql/<version>/bin (Debian package
//   `postgresql`). PostgreSQL refuses to run as root, so under root (CI) initdb and postgres run
//   as the `postgres` system user, the temporary directory chowned to it; else as the current
//   user.
// - Test-only settings: trust authentication, loopback only on a free port, the Unix socket in
//   the temporary directory, durability off (fsync, synchronous_commit, full_page_writes).
// - Every process has a hard deadline: initdb and psql are SIGKILLed when theirs passes; the
//   server runs under `timeout -s INT 1800` (SIGKILL 15 s later). stop() is SIGINT to the
//   postmaster (fast shutdown), a bounded wait, then SIGKILL to the server's process group. When
//   the test process exits, every server still running is stopped the same way (synchronously,
//   bounded) and every directory removed. A test process killed by a signal leaves the server to
//   its deadline.
// - Nothing sleeps to synchronise: readiness is postgres' own "ready to accept connections" log
//   line; exits are process events.
//
// Node 18+ built-ins only.
import { execFileSync, spawn } from 'node:child_process';
import { chownSync, existsSync, mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { SupervisedServer, tail } from './process.mjs';

const INITDB_TIMEOUT_MS = 120000;
const READY_TIMEOUT_MS = 20000;
const STOP_TIMEOUT_MS = 20000;
const EXIT_STOP_TIMEOUT_MS = 5000; // in the process 'exit' handler, which blocks
const QUERY_TIMEOUT_MS = 30000;
const LIFETIME_S = 1800;
const KILL_AFTER_S = 15;
const START_ATTEMPTS = 5; // fresh ports tried when postgres cannot bind one
const LOG_LIMIT = 64 * 1024; // server log kept for error messages (its tail)

// $SY_PG_BINDIR, else the highest /usr/lib/postgresql/<version>/bin holding postgres and initdb.
export function pgBinDir() {
  const usable = (dir) => existsSync(path.join(dir, 'postgres')) && existsSync(path.join(dir, 'initdb'));
  if (process.env.SY_PG_BINDIR) {
    if (!usable(process.env.SY_PG_BINDIR)) {
      throw new Error(`SY_PG_BINDIR=${process.env.SY_PG_BINDIR} has no postgres/initdb`);
    }
    return process.env.SY_PG_BINDIR;
  }
  let versions = [];
  try {
    versions = readdirSync('/usr/lib/postgresql').filter((v) => /^\d+(\.\d+)?$/.test(v));
  } catch {
    // no such directory: reported below
  }
  const best = versions
    .map((v) => ({ v: Number(v), dir: path.join('/usr/lib/postgresql', v, 'bin') }))
    .filter(({ dir }) => usable(dir))
    .sort((a, b) => b.v - a.v)[0];
  if (!best) {
    throw new Error('no PostgreSQL under /usr/lib/postgresql/*/bin (install the Debian package '
      + 'postgresql, or set SY_PG_BINDIR)');
  }
  return best.dir;
}

// {} for the current user; {uid, gid} of `postgres` when running as root.
function serverAccount() {
  if (process.geteuid() !== 0) return {};
  let entry;
  try {
    entry = execFileSync('getent', ['passwd', 'postgres'], { encoding: 'utf8', timeout: 5000 });
  } catch (e) {
    throw new Error(`running as root, but there is no \`postgres\` user to run as: ${e.message}`);
  }
  const [, , uid, gid] = entry.trim().split(':');
  return { uid: Number(uid), gid: Number(gid) };
}

// Runs `bin args` to completion, SIGKILLed after timeoutMs: {code, signal, stdout, stderr}.
function run(bin, args, { timeoutMs, env = {}, ...options }) {
  return new Promise((resolve, reject) => {
    const child = spawn(bin, args, {
      ...options,
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    const timer = setTimeout(() => {
      err += `\n[pg] ${path.basename(bin)}: deadline of ${timeoutMs} ms passed, SIGKILL`;
      child.kill('SIGKILL');
    }, timeoutMs);
    child.stdout.setEncoding('utf8');
    child.stderr.setEncoding('utf8');
    child.stdout.on('data', (d) => { out += d; });
    child.stderr.on('data', (d) => { err += d; });
    child.on('error', (e) => {
      clearTimeout(timer);
      reject(new Error(`${bin} not runnable: ${e.message}`));
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout: out, stderr: err });
    });
  });
}

// Fast shutdown: SIGINT to the postmaster (this.pid), bounded wait, SIGKILL to the process group.
class Server extends SupervisedServer {
  constructor(binDir, account, dir) {
    super(dir, { tag: 'pg', signal: 'SIGINT', lifetimeS: LIFETIME_S, killAfterS: KILL_AFTER_S,
      stopTimeoutMs: STOP_TIMEOUT_MS, exitStopTimeoutMs: EXIT_STOP_TIMEOUT_MS });
    this.binDir = binDir;
    this.account = account;
    this.dataDir = path.join(dir, 'data');
    this.log = '';
  }

  note(text) {
    this.log += text;
  }

  get url() {
    return `postgresql://switchyard@127.0.0.1:${this.port}/switchyard`;
  }

  async initdb() {
    const r = await run(path.join(this.binDir, 'initdb'),
      ['-D', this.dataDir, '--auth=trust', '-U', 'switchyard', '--encoding=UTF8', '--locale=C',
        '--no-sync'],
      { timeoutMs: INITDB_TIMEOUT_MS, cwd: this.dir, ...this.account });
    if (r.code !== 0) {
      const hint = this.account.uid !== undefined
        ? ` (initdb ran as user postgres: every parent of ${this.dir} must be searchable by it)`
        : '';
      throw new Error(`initdb failed (code ${r.code}, signal ${r.signal})${hint}:\n`
        + `${tail(r.stdout + r.stderr)}`);
    }
  }

  // Starts postgres on this.port and resolves once it accepts connections. Rejects (the server
  // stopped) on exit or deadline; error.portTaken says whether postgres could not bind the port.
  launch() {
    let log = '';
    let onOutput = () => {};
    const child = this.spawn(
      [path.join(this.binDir, 'postgres'), '-D', this.dataDir,
        '-h', '127.0.0.1', '-p', String(this.port), '-k', this.dir,
        '-c', 'fsync=off', '-c', 'synchronous_commit=off', '-c', 'full_page_writes=off',
        '-c', 'max_connections=60'],
      {
        cwd: this.dir,
        ...this.account,
        onData: (d) => {
          log += d;
          this.log = (this.log + d).slice(-LOG_LIMIT);
          onOutput();
        },
        onClose: () => onOutput(),
      });
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        onOutput = () => {};
        this.stop().finally(() => reject(new Error(
          `postgres did not accept connections on port ${this.port} within `
          + `${READY_TIMEOUT_MS} ms:\n${tail(log)}`)));
      }, READY_TIMEOUT_MS);
      onOutput = () => {
        if (/database system is ready to accept connections/.test(log)) {
          clearTimeout(timer);
          onOutput = () => {};
          // The first line of postmaster.pid, written by this postmaster before it listened.
          this.pid = Number(readFileSync(path.join(this.dataDir, 'postmaster.pid'), 'utf8')
            .split('\n')[0]);
          resolve();
        } else if (this.wrapper !== child) {
          clearTimeout(timer);
          onOutput = () => {};
          const e = new Error(`postgres exited before accepting connections on port ${this.port}:\n`
            + `${tail(log)}`);
          e.portTaken = /could not bind|Address already in use/.test(log);
          reject(e);
        }
      };
    });
  }

  query(sql, { db = 'switchyard' } = {}) {
    return psql(this.binDir, `postgresql://switchyard@127.0.0.1:${this.port}/${db}`, sql);
  }
}

async function psql(binDir, url, sql) {
  const r = await run(path.join(binDir, 'psql'),
    ['-X', '-A', '-t', '-v', 'ON_ERROR_STOP=1', '-d', url, '-c', sql],
    { timeoutMs: QUERY_TIMEOUT_MS, env: { PGCONNECT_TIMEOUT: '5' } });
  if (r.code !== 0) {
    throw new Error(`psql ${JSON.stringify(sql)} failed (code ${r.code}, signal ${r.signal}): `
      + `${r.stderr.trim()}`);
  }
  return r.stdout.trim();
}

// Starts a server: initdb into a fresh temporary directory, postgres on a free port (another
// one if that was taken meanwhile), waits until it is ready, CREATE DATABASE switchyard.
// Rejects with the tail of the initdb/postgres output; nothing is left behind then.
// Resolves with:
//   url            postgresql://switchyard@127.0.0.1:PORT/switchyard (superuser, trust)
//   port, dir      the port, the temporary directory (data/, the socket)
//   postmasterPid  while running, else 0
//   query(sql)     psql -X -A -t -v ON_ERROR_STOP=1 (bounded): trimmed stdout; rejects on error
//   stop()         fast shutdown (bounded); the data stays; idempotent
//   restart()      starts again on the same data and port; resolves once ready
//   cleanup()      stop() and remove the directory (also done at process exit)
//   log()          the server's output so far (its last 64 KiB)
export async function startPostgres({ binDir = pgBinDir() } = {}) {
  const account = serverAccount();
  const dir = mkdtempSync(path.join(os.tmpdir(), 'sy-pg-'));
  const server = new Server(binDir, account, dir);
  const cleanup = () => server.cleanup();
  try {
    // mkdtemp made it 0700 and ours: hand it to the account that runs the server.
    if (account.uid !== undefined) chownSync(dir, account.uid, account.gid);
    await server.initdb();
    await server.launchOnFreePort(START_ATTEMPTS);
    await server.query('CREATE DATABASE switchyard', { db: 'postgres' });
  } catch (e) {
    await cleanup();
    throw e;
  }
  return {
    url: server.url,
    port: server.port,
    dir,
    get postmasterPid() {
      return server.pid;
    },
    query: (sql) => server.query(sql),
    stop: () => server.stop(),
    restart: () => server.relaunch(),
    cleanup,
    log: () => server.log,
  };
}
