// The server's configuration: precedence (environment over file over defaults) and a clear
// message naming the setting for every bad value.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { ConfigError, defaultConfig, loadConfig } from '../../src/server/config.js';
import { tempDir } from '../support/temp-dir.js';

const configFile = (content: string) => {
  const path = join(tempDir('cloudrec-config-'), 'config.json');
  writeFileSync(path, content);
  return path;
};

describe('loadConfig', () => {
  test('gives the named defaults when nothing is set', () => {
    expect(loadConfig({})).toEqual(defaultConfig);
  });

  test.each([
    ['CLOUDREC_PORT', '9000', { port: 9000 }],
    ['CLOUDREC_HOST', '::1', { host: '::1' }],
    ['CLOUDREC_IDLE_TIMEOUT_SEC', '3', { idleTimeoutSec: 3 }],
    ['CLOUDREC_RATE_LIMIT_PER_SEC', '1000', { rateLimitPerSec: 1000 }],
    ['CLOUDREC_SANDBOX', 'off', { sandbox: false }],
    ['CLOUDREC_DEMO', 'false', { demo: false }],
    ['CLOUDREC_DEMO', '1', { demo: true }],
    ['CLOUDREC_LOG_LEVEL', 'warn', { logLevel: 'warn' }],
    ['CLOUDREC_DATA_DIR', '/var/lib/cloudrec', { dataDir: '/var/lib/cloudrec' }],
  ])('reads %s=%s', (variable, value, expected) => {
    expect(loadConfig({ [variable]: value })).toEqual({ ...defaultConfig, ...expected });
  });

  test.each([
    ['CLOUDREC_PORT', 'eighty', /CLOUDREC_PORT: must be an integer from 0 to 65535 \(got "eighty"\)/],
    ['CLOUDREC_PORT', '70000', /CLOUDREC_PORT: must be an integer/],
    ['CLOUDREC_IDLE_TIMEOUT_SEC', '2', /CLOUDREC_IDLE_TIMEOUT_SEC: must be an integer from 3/],
    ['CLOUDREC_IDLE_TIMEOUT_SEC', '2.5', /CLOUDREC_IDLE_TIMEOUT_SEC/],
    ['CLOUDREC_RATE_LIMIT_PER_SEC', '0', /CLOUDREC_RATE_LIMIT_PER_SEC/],
    ['CLOUDREC_SANDBOX', 'maybe', /CLOUDREC_SANDBOX: must be on or off/],
    ['CLOUDREC_LOG_LEVEL', 'loud', /CLOUDREC_LOG_LEVEL: must be one of fatal, error, warn, info, debug, silent/],
    ['CLOUDREC_HOST', ' ', /CLOUDREC_HOST: must be a non-empty string/],
  ])('rejects %s=%s with a message naming it', (variable, value, message) => {
    expect(() => loadConfig({ [variable]: value })).toThrow(ConfigError);
    expect(() => loadConfig({ [variable]: value })).toThrow(message);
  });

  test('reads a JSON config file, and lets the environment override it', () => {
    const path = configFile(JSON.stringify({ port: 9100, idleTimeoutSec: 10, demo: false }));
    expect(loadConfig({ CLOUDREC_CONFIG: path })).toEqual({ ...defaultConfig, port: 9100, idleTimeoutSec: 10, demo: false });
    expect(loadConfig({ CLOUDREC_CONFIG: path, CLOUDREC_PORT: '9200' }).port).toBe(9200);
  });

  test.each([
    ['not JSON', '{port: 1', /cannot read it as JSON/],
    ['not an object', '[1, 2]', /must hold a JSON object/],
    ['an unknown setting', '{"prot": 1}', /unknown setting prot; known: host, port/],
    ['a bad value', '{"port": "high"}', /port in .*config\.json: must be an integer/],
  ])('rejects a config file with %s, naming the file', (_what, content, message) => {
    const path = configFile(content);
    expect(() => loadConfig({ CLOUDREC_CONFIG: path })).toThrow(message);
    expect(() => loadConfig({ CLOUDREC_CONFIG: path })).toThrow(/CLOUDREC_CONFIG|config\.json/);
  });

  test('rejects a config file that does not exist, naming it', () => {
    expect(() => loadConfig({ CLOUDREC_CONFIG: '/nonexistent/cloudrec.json' })).toThrow(/CLOUDREC_CONFIG \(\/nonexistent\/cloudrec\.json\)/);
  });
});
