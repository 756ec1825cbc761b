// The Redis fixture of the process-level tests (tests/testutil/redis.mjs) itself: a real server
// starts, answers RESP on its URL, stops, restarts empty on the same port, requires the password
// it was given, and leaves no process or directory behind.
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { test } from 'node:test';

import { RedisReplyError, startRedis } from '../testutil/redis.mjs';

function processGone(pid) {
  try {
    process.kill(pid, 0);
    return false;
  } catch (e) {
    return e.code === 'ESRCH';
  }
}

test('startRedis: commands, stop, restart empty on the same port, cleanup', async (t) => {
  const began = performance.now();
  const redis = await startRedis();
  t.after(() => redis.cleanup());
  t.diagnostic(`startRedis took ${Math.round(performance.now() - began)} ms (port ${redis.port})`);

  assert.equal(redis.url, `redis://127.0.0.1:${redis.port}`);
  assert.notEqual(redis.port, 6379);
  assert.equal(await redis.command('PING'), 'PONG');
  assert.equal(await redis.command('SET', 'k', 'välue\r\n'), 'OK');
  assert.equal(await redis.command('GET', 'k'), 'välue\r\n');
  assert.equal(await redis.command('GET', 'missing'), null);
  assert.equal(await redis.command('INCRBY', 'n', 41), 41);
  assert.equal(await redis.command('INCRBY', 'n', '9007199254740992'), 9007199254741033n);
  assert.equal(await redis.command('RPUSH', 'list', 'a', 'b'), 2);
  assert.deepEqual(await redis.command('LRANGE', 'list', 0, -1), ['a', 'b']);
  assert.deepEqual(await redis.command('MGET', 'k', 'missing'), ['välue\r\n', null]);
  assert.deepEqual(await redis.command('LRANGE', 'nothing', 0, -1), []);
  await assert.rejects(redis.command('INCR', 'k'), /not an integer/);
  await assert.rejects(redis.command('NOSUCHCOMMAND'), /unknown command/);
  // An error inside an array is an element, not a rejection.
  const [first, second] = await redis.command('EVAL',
    "return {1, redis.error_reply('inner')}", 0);
  assert.equal(first, 1);
  assert.ok(second instanceof RedisReplyError);
  assert.match(second.message, /inner$/);
  assert.deepEqual(await redis.command('CONFIG', 'GET', 'save'), ['save', '']);
  assert.deepEqual(await redis.command('CONFIG', 'GET', 'appendonly'), ['appendonly', 'no']);
  assert.ok(existsSync(`${redis.dir}/redis.log`));

  const firstPid = redis.pid;
  assert.ok(firstPid > 0);
  await redis.stop();
  assert.equal(redis.pid, 0);
  assert.ok(processGone(firstPid));
  await assert.rejects(redis.command('PING'));
  await redis.stop(); // idempotent

  const restartBegan = performance.now();
  await redis.restart();
  t.diagnostic(`restart took ${Math.round(performance.now() - restartBegan)} ms`);
  assert.equal(await redis.command('PING'), 'PONG');
  assert.equal(await redis.command('EXISTS', 'k'), 0); // nothing persisted
  assert.equal(redis.url, `redis://127.0.0.1:${redis.port}`);

  const secondPid = redis.pid;
  assert.notEqual(secondPid, firstPid);
  await redis.cleanup();
  assert.ok(processGone(secondPid));
  assert.equal(existsSync(redis.dir), false);
});

test('startRedis({password}): the URL carries it and the server requires it', async (t) => {
  const redis = await startRedis({ password: 's3cret' });
  t.after(() => redis.cleanup());
  assert.equal(redis.url, `redis://:s3cret@127.0.0.1:${redis.port}`);
  assert.equal(await redis.command('PING'), 'PONG'); // command() authenticates
  assert.deepEqual(await redis.command('CONFIG', 'GET', 'requirepass'), ['requirepass', 's3cret']);
});
