// Start-up and shutdown: SIGTERM at any moment after "listening" drains and exits 0.
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import path from 'node:path';
import { describe, test } from 'node:test';

import {
  emulator, sanitizerReports, sqlite, startDemo, startServe, streamChat, tempDir,
  testConfigYaml, userMessage,
} from '../testutil/harness.mjs';

describe('lifecycle', () => {
  test('serve: SIGTERM right after "listening" -> exit 0 (5 tries)', async () => {
    const dir = tempDir();
    try {
      const outcomes = [];
      for (let i = 0; i < 5; ++i) {
        const gw = await startServe(testConfigYaml({ emulatorUrl: 'http://127.0.0.1:9',
          dbPath: path.join(dir, `l${i}.db`) }));
        const r = await gw.stop();
        gw.cleanup();
        outcomes.push(r.signal ? `killed by ${r.signal}` : `exit ${r.code}`);
      }
      assert.deepEqual(outcomes, Array(5).fill('exit 0'));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('demo: SIGTERM right after "listening" -> exit 0 (3 tries)', async () => {
    const outcomes = [];
    for (let i = 0; i < 3; ++i) {
      const demo = await startDemo();
      const r = await demo.stop();
      demo.cleanup();
      outcomes.push(r.signal ? `killed by ${r.signal}` : `exit ${r.code}`);
    }
    assert.deepEqual(outcomes, Array(3).fill('exit 0'));
  });

  test('demo: SIGTERM during a stream -> the stream completes, then exit 0 with its ledger row', async (t) => {
    const demo = await startDemo();
    t.after(async () => {
      await demo.proc.kill();
      demo.cleanup();
    });
    await emulator.setProfile(demo.emulatorUrl, 'deepseek-v4-flash', { ttft_ms: 20, tokens_per_s: 25 });
    let signalled = false;
    const streamed = streamChat(demo.url, {
      model: 'economy', stream: true, max_tokens: 30, messages: userMessage('A long answer, please.'),
    }, {
      onEvent: (e) => {
        if (!signalled && e.json?.choices?.[0]?.delta?.content) {
          signalled = true;
          demo.proc.child.kill('SIGTERM');
        }
      },
    });
    const res = await streamed;
    assert.ok(signalled, 'SIGTERM was sent mid-stream');
    const result = await demo.stop();
    assert.equal(res.status, 200);
    assert.equal(res.events.at(-1)?.data, '[DONE]', `the in-flight stream was drained: ${res.raw.slice(-300)}`);
    assert.deepEqual(sanitizerReports(result.stderr), []);
    assert.equal(result.code, 0, result.stderr);
    const rows = await sqlite(demo.dbPath, 'SELECT status, stream FROM requests');
    assert.deepEqual(rows, [{ status: 200, stream: 1 }]);
  });
});
