// The PostgreSQL fixture of the process-level tests (tests/testutil/pg.mjs) itself: a real server
// starts, answers on its URL, stops, restarts on the same port with its data, and leaves no
// process or directory behind.
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { test } from 'node:test';

import { startPostgres } from '../testutil/pg.mjs';

function processGone(pid) {
  try {
    process.kill(pid, 0);
    return false;
  } catch (e) {
    return e.code === 'ESRCH';
  }
}

test('startPostgres: query, stop, restart with the data kept, cleanup', async (t) => {
  const began = performance.now();
  const pg = await startPostgres();
  t.after(() => pg.cleanup());
  t.diagnostic(`startPostgres took ${Math.round(performance.now() - began)} ms (port ${pg.port})`);

  assert.equal(pg.url, `postgresql://switchyard@127.0.0.1:${pg.port}/switchyard`);
  assert.equal(await pg.query('SELECT 1'), '1');
  assert.equal(await pg.query('SELECT current_database()'), 'switchyard');
  await pg.query('CREATE TABLE kept (v text)');
  await pg.query("INSERT INTO kept VALUES ('before stop')");
  await assert.rejects(pg.query('SELECT * FROM no_such_table'), /no_such_table/);

  const first = pg.postmasterPid;
  assert.ok(first > 0);
  await pg.stop();
  assert.equal(pg.postmasterPid, 0);
  assert.ok(processGone(first));
  await assert.rejects(pg.query('SELECT 1'));
  await pg.stop(); // idempotent

  const restartBegan = performance.now();
  await pg.restart();
  t.diagnostic(`restart took ${Math.round(performance.now() - restartBegan)} ms`);
  assert.equal(await pg.query('SELECT 1'), '1');
  assert.equal(await pg.query('SELECT v FROM kept'), 'before stop');

  const second = pg.postmasterPid;
  await pg.cleanup();
  assert.ok(processGone(second));
  assert.equal(existsSync(pg.dir), false);
});
