// Ledger and money helpers for the process-level tests: sqlite3 queries, bounded polling, and
// exact decimal USD <-> BigInt pico-dollar conversions.
import { execFile } from 'node:child_process';

// Runs `sql` with the sqlite3 CLI in JSON mode; returns the rows ([] when none).
export function sqlite(dbPath, sql) {
  return new Promise((resolve, reject) => {
    execFile('sqlite3', ['-json', dbPath, sql], { timeout: 10000 }, (err, stdout, stderr) => {
      if (err) {
        reject(new Error(`sqlite3 ${dbPath}: ${stderr || err.message}`));
        return;
      }
      resolve(stdout.trim() ? JSON.parse(stdout) : []);
    });
  });
}

// Calls `fn` until it returns a truthy value or `timeoutMs` passes; resolves with the last value.
export async function pollUntil(fn, { timeoutMs = 5000, intervalMs = 25 } = {}) {
  const until = performance.now() + timeoutMs;
  let value;
  for (;;) {
    try {
      value = await fn();
    } catch (e) {
      value = undefined;
      if (performance.now() >= until) throw e;
    }
    if (value || performance.now() >= until) return value;
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}

// Ledger rows for these request ids, waiting (bounded) until all of them were flushed.
export async function ledgerRows(dbPath, requestIds, { timeoutMs = 5000 } = {}) {
  const ids = requestIds.map((id) => `'${String(id).replace(/'/g, "''")}'`).join(',');
  const rows = await pollUntil(async () => {
    const got = await sqlite(dbPath, `SELECT * FROM requests WHERE request_id IN (${ids})`);
    return got.length >= requestIds.length ? got : null;
  }, { timeoutMs });
  return rows ?? (await sqlite(dbPath, `SELECT * FROM requests WHERE request_id IN (${ids})`));
}

export const DECIMAL_RE = /^(0|[1-9]\d*)(\.\d*[1-9])?$/;  // Money::ToString: shortest, no sign

// Exact decimal USD string -> BigInt pico-dollars. Throws on anything but a plain decimal.
export function usdToPico(text) {
  const m = /^(-)?(\d+)(?:\.(\d{1,12}))?$/.exec(String(text));
  if (!m) throw new Error(`not a decimal USD amount: ${JSON.stringify(text)}`);
  const pico = BigInt(m[2]) * 10n ** 12n + BigInt((m[3] ?? '').padEnd(12, '0') || '0');
  return m[1] ? -pico : pico;
}

// BigInt pico-dollars -> "12.35", rounded half away from zero (Money::ToCents).
export function picoToCents(pico) {
  const neg = pico < 0n;
  const abs = neg ? -pico : pico;
  const cents = (abs + 5n * 10n ** 9n) / 10n ** 10n;
  const s = `${cents / 100n}.${String(cents % 100n).padStart(2, '0')}`;
  return neg && cents !== 0n ? `-${s}` : s;
}

