// The process plumbing shared by the throwaway servers of the process-level tests
// (tests/testutil/pg.mjs, tests/testutil/redis.mjs): each server runs under `timeout`, in its own
// process group, and is stopped with a signal, a bounded wait, then SIGKILL to the group.
//
// - freePort(): a port on 127.0.0.1 free at the moment of the call (the kernel's choice; another
//   program may take it before the caller binds it, hence launchOnFreePort()).
// - tail(text, n = 2000): the last n characters of text, "..." in front when cut.
// - processGone(pid): whether no process has that pid any more (signal 0; ESRCH).
// - class SupervisedServer(dir, {tag, signal, lifetimeS, killAfterS, stopTimeoutMs,
//   exitStopTimeoutMs}): the base of a server class, which adds launch() and note(text) (where a
//   stop's note goes). Constructing one registers it for the exit handler. Fields: dir, port,
//   wrapper (the `timeout` child, while it runs), closed (resolves with {code, signal} once the
//   wrapper exited and its output closed), pid (the server's own, set by launch(); 0 unknown).
//   - spawn(argv, {onData, onClose, ...spawnOptions}): `timeout -k killAfterS -s signal lifetimeS
//     argv...` (the hard deadline: `signal` after lifetimeS s, SIGKILL killAfterS s later), which
//     leads the server's process group; stdout and stderr as UTF-8 into onData (a spawn error as
//     "\n[tag] spawn error: ..."); on exit wrapper becomes null, then onClose(). Returns the child.
//   - stop(): `signal` to pid (else to `timeout`, which forwards it), waits for the exit at most
//     stopTimeoutMs, else notes "\n[tag] no exit <ms> ms after <signal>, SIGKILL", SIGKILLs the
//     process group and waits for the exit. Idempotent; pid is 0 afterwards.
//   - stopAndRemoveSync(): for the process 'exit' handler, where the event loop no longer runs:
//     `signal`, pid watched directly (its parent, `timeout`, reaps it) at most exitStopTimeoutMs
//     in 20 ms blocking waits, SIGKILL to the group, the directory removed. At process exit it is
//     called for every server not cleaned up; a process killed by a signal runs no handler and
//     leaves its servers to their `timeout` deadline.
//   - cleanup(): stop(), unregistered, the directory removed.
//   - launchOnFreePort(attempts): port = freePort(), launch(); again on a fresh port while the
//     launch fails with error.portTaken, at most `attempts` tries.
//   - relaunch(): stop(), then launch() on the same port; a port taken meanwhile is said so in
//     the error message.
//
// Node 18+ built-ins only.
import { spawn } from 'node:child_process';
import { rmSync } from 'node:fs';
import net from 'node:net';

export function freePort() {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

export const tail = (text, n = 2000) => (text.length > n ? `...${text.slice(-n)}` : text);

export function processGone(pid) {
  try {
    process.kill(pid, 0);
    return false;
  } catch (e) {
    return e.code === 'ESRCH';
  }
}

// Servers of this process not yet cleaned up, for the exit handler.
const liveServers = new Set();
process.on('exit', () => {
  for (const server of liveServers) server.stopAndRemoveSync();
});

export class SupervisedServer {
  // dir: the server's temporary directory; tag: the prefix of this file's notes ("[tag] ...");
  // signal: the stop signal ('SIGINT', 'SIGTERM'); lifetimeS, killAfterS: the `timeout` deadline;
  // stopTimeoutMs, exitStopTimeoutMs: the waits of stop() and stopAndRemoveSync().
  constructor(dir, { tag, signal, lifetimeS, killAfterS, stopTimeoutMs, exitStopTimeoutMs }) {
    Object.assign(this, { dir, tag, signal, lifetimeS, killAfterS, stopTimeoutMs,
      exitStopTimeoutMs });
    this.port = 0;
    this.wrapper = null; // the `timeout` child, leader of the server's process group
    this.closed = null; // resolves when the wrapper has exited and its output closed
    this.pid = 0; // the server under `timeout`, once known
    liveServers.add(this);
  }

  // Where a note of stop() goes (the server's log); the subclass says.
  note() {}

  spawn(argv, { onData, onClose = () => {}, ...options }) {
    const child = spawn('timeout',
      ['-k', String(this.killAfterS), '-s', this.signal.replace(/^SIG/, ''),
        String(this.lifetimeS), ...argv],
      { ...options, stdio: ['ignore', 'pipe', 'pipe'] });
    this.wrapper = child;
    this.pid = 0;
    child.stdout.setEncoding('utf8');
    child.stderr.setEncoding('utf8');
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    this.closed = new Promise((resolve) => {
      child.on('error', (e) => onData(`\n[${this.tag}] spawn error: ${e.message}`));
      child.on('close', (code, signal) => {
        if (this.wrapper === child) this.wrapper = null;
        onClose();
        resolve({ code, signal });
      });
    });
    return child;
  }

  async stop() {
    const child = this.wrapper;
    if (!child) return;
    try {
      // `timeout` forwards the signal too, should the server's pid be unknown.
      process.kill(this.pid || child.pid, this.signal);
    } catch {
      // exited by itself; its close event is on its way
    }
    let timer;
    const timedOut = await Promise.race([
      this.closed.then(() => false),
      new Promise((r) => {
        timer = setTimeout(() => r(true), this.stopTimeoutMs);
      }),
    ]);
    clearTimeout(timer);
    if (timedOut) {
      this.note(`\n[${this.tag}] no exit ${this.stopTimeoutMs} ms after ${this.signal}, SIGKILL`);
      try {
        process.kill(-child.pid, 'SIGKILL');
      } catch {
        child.kill('SIGKILL');
      }
      await this.closed;
    }
    this.pid = 0;
  }

  // For the process 'exit' handler: synchronous and bounded. The event loop no longer runs, so
  // the server is watched directly (its parent, `timeout`, reaps it).
  stopAndRemoveSync() {
    liveServers.delete(this);
    const child = this.wrapper;
    if (child) {
      const { pid } = this;
      try {
        process.kill(pid || child.pid, this.signal);
      } catch {
        // already gone
      }
      const tick = new Int32Array(new SharedArrayBuffer(4));
      const until = Date.now() + this.exitStopTimeoutMs;
      while (pid && !processGone(pid) && Date.now() < until) Atomics.wait(tick, 0, 0, 20);
      try {
        process.kill(-child.pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
    rmSync(this.dir, { recursive: true, force: true });
  }

  async cleanup() {
    await this.stop();
    liveServers.delete(this);
    rmSync(this.dir, { recursive: true, force: true });
  }

  async launchOnFreePort(attempts) {
    for (let attempt = 1; ; attempt++) {
      this.port = await freePort();
      try {
        await this.launch();
        return;
      } catch (e) {
        if (!e.portTaken || attempt === attempts) throw e;
      }
    }
  }

  async relaunch() {
    await this.stop();
    try {
      await this.launch();
    } catch (e) {
      if (e.portTaken) e.message = `port ${this.port} was taken while stopped: ${e.message}`;
      throw e;
    }
  }
}
