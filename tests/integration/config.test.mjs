// `serve` refuses a broken configuration: exit 2, a path-qualified message on stderr, no listener.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, describe, test } from 'node:test';

import {
  DEFAULT_KEY_ENV, runToExit, startServe, tempDir, testConfigYaml,
} from '../testutil/harness.mjs';

describe('serve with a broken config', () => {
  const dir = tempDir();
  after(() => rmSync(dir, { recursive: true, force: true }));
  const good = testConfigYaml({ emulatorUrl: 'http://127.0.0.1:9', dbPath: path.join(dir, 'l.db') });

  async function serveWith(yaml, env = {}) {
    const file = path.join(dir, `c-${randomBytes(4).toString('hex')}.yaml`);
    writeFileSync(file, yaml);
    return runToExit(['serve', '--config', file, '--listen', '127.0.0.1:0'],
      { deadlineS: 30, env: { [DEFAULT_KEY_ENV]: 'sk-test', ...env } });
  }

  function expectRefused(r, pathRe) {
    assert.equal(r.code, 2, `exit code 2; got ${r.code} (${r.signal}); stderr: ${r.stderr}`);
    assert.match(r.stderr, pathRe);
    assert.doesNotMatch(r.stdout, /listening/);
  }

  test('the unbroken fixture starts (so the failures below are the edits)', async () => {
    // Reaching "listening" is the point here; the exit code on SIGTERM is lifecycle.test.mjs's.
    const gw = await startServe(good, { env: { [DEFAULT_KEY_ENV]: 'sk-test' } });
    await gw.stop();
    gw.cleanup();
  });

  test('missing config file -> exit 2 naming the file', async () => {
    const r = await runToExit(['serve', '--config', path.join(dir, 'missing.yaml')], { deadlineS: 30 });
    assert.equal(r.code, 2, `a missing config file exits 2: ${r.stderr}`);
    assert.match(r.stderr, /missing\.yaml/);
  });

  test('bad price -> models.gpt-5.5.price.output', async () => {
    const r = await serveWith(good.replace('output: "30.00"', 'output: "30.0.0"'));
    expectRefused(r, /models\.gpt-5\.5\.price\.output: .*30\.0\.0/);
  });

  test('unknown key -> server.listn: unknown key', async () => {
    const r = await serveWith(good.replace('server:\n', 'server:\n  listn: "127.0.0.1:1"\n'));
    expectRefused(r, /server\.listn: unknown key/);
  });

  test('alias naming an unknown model -> aliases.economy[1]', async () => {
    const r = await serveWith(good.replace('[deepseek-v4-flash, kimi-k2.6, gpt-5.5]',
      '[deepseek-v4-flash, kimi-k3, gpt-5.5]'));
    expectRefused(r, /aliases\.economy\[1\]: .*kimi-k3/);
  });

  // A routing policy that names something that does not exist fails at start, with its path.
  const routing = (rules) => `routing:\n  profiles:\n    auto:\n      rules:\n${rules}`;
  test('routing: unknown model in a chain -> routing.profiles.auto.rules[0].chain[1]', async () => {
    const r = await serveWith(`${good}\n${routing('        - {name: d, chain: [gpt-5.5, gpt-9]}\n')}`);
    expectRefused(r, /routing\.profiles\.auto\.rules\[0\]\.chain\[1\]: unknown model or alias "gpt-9"/);
  });

  test('routing: unknown task type or capability, no default rule', async () => {
    const task = await serveWith(`${good}\n${routing(
      '        - {name: r, when: {task: [poetry]}, chain: [gpt-5.5]}\n        - {name: d, chain: [gpt-5.5]}\n')}`);
    expectRefused(task, /routing\.profiles\.auto\.rules\[0\]\.when\.task\[0\]: unknown task type "poetry"/);
    const capability = await serveWith(`${good}\n${routing(
      '        - {name: d, cheapest: {capabilities: [telepathy]}}\n')}`);
    expectRefused(capability,
      /routing\.profiles\.auto\.rules\[0\]\.cheapest\.capabilities\[0\]: unknown capability "telepathy"/);
    const noDefault = await serveWith(`${good}\n${routing(
      '        - {name: r, when: {code: true}, chain: [gpt-5.5]}\n')}`);
    expectRefused(noDefault, /routing\.profiles\.auto\.rules: the profile has no default rule/);
  });

  test('unknown provider kind -> providers.upstream.kind', async () => {
    const r = await serveWith(good.replace('kind: openai', 'kind: azure'));
    expectRefused(r, /providers\.upstream\.kind: .*azure/);
  });

  test('api_key_env naming an unset variable -> providers.upstream.api_key_env', async () => {
    const yaml = testConfigYaml({ emulatorUrl: 'http://127.0.0.1:9', dbPath: path.join(dir, 'l.db'),
      apiKeyEnv: 'SY_TEST_SURELY_UNSET_VARIABLE' });
    const env = { SY_TEST_SURELY_UNSET_VARIABLE: undefined };
    const r = await serveWith(yaml, env);
    expectRefused(r, /providers\.upstream\.api_key_env/);
  });

  test('YAML syntax error -> file:line:col', async () => {
    const r = await serveWith(`${good}\nmodels: [unclosed\n`);
    assert.equal(r.code, 2, r.stderr);
    assert.match(r.stderr, /c-[0-9a-f]+\.yaml:\d+:\d+/);
  });
});
