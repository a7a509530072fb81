// The address the per-address limits count: behind a trusted proxy, the client the proxy names;
// otherwise the peer, whatever X-Forwarded-For claims. And the per-address cap on connections.
import { once } from 'node:events';
import { connect, type Socket } from 'node:net';
import { afterAll, describe, expect, test } from 'vitest';
import { buildApp } from '../../src/server/app.js';
import { clientAddress, parseTrustedProxies } from '../../src/server/client-address.js';
import { ConfigError, defaultConfig, loadConfig } from '../../src/server/config.js';
import { openDatabase } from '../../src/server/database.js';

describe('the client address', () => {
  const trusted = parseTrustedProxies('10.0.0.0/8, 127.0.0.1, fd00::/8');

  test.each([
    ['an untrusted peer: X-Forwarded-For is not believed', '203.0.113.5', '198.51.100.1', '203.0.113.5'],
    ['a trusted proxy: the client it names', '10.1.2.3', '198.51.100.1', '198.51.100.1'],
    ['two trusted proxies: the nearest untrusted hop', '127.0.0.1', '198.51.100.1, 203.0.113.9, 10.9.9.9', '203.0.113.9'],
    ['an IPv6 proxy', 'fd00::1', '2001:db8::7', '2001:db8::7'],
    ['a hop that is no address: the peer', '10.1.2.3', 'unknown', '10.1.2.3'],
    ['no header: the peer', '10.1.2.3', undefined, '10.1.2.3'],
  ])('%s', (_what, peer, forwardedFor, expected) => {
    expect(clientAddress(trusted, peer, forwardedFor)).toBe(expected);
  });

  test('without trustProxy the header is never read', () => {
    expect(clientAddress(undefined, '127.0.0.1', '198.51.100.1')).toBe('127.0.0.1');
  });

  test('a setting that is not addresses or CIDRs is refused at start, naming it', () => {
    expect(() => loadConfig({ CLOUDREC_TRUST_PROXY: '10.0.0.0/8, proxy.local' })).toThrow(ConfigError);
    expect(() => loadConfig({ CLOUDREC_TRUST_PROXY: '10.0.0.0/33' })).toThrow(/^CLOUDREC_TRUST_PROXY: "10\.0\.0\.0\/33" is not an IP address or CIDR/);
    expect(loadConfig({ CLOUDREC_TRUST_PROXY: '10.0.0.0/8,::1' }).trustProxy).toBe('10.0.0.0/8,::1');
  });
});

describe('failed authentications behind a proxy', () => {
  const start = (app: ReturnType<typeof buildApp>['app'], client: string) =>
    app.inject({
      method: 'POST',
      url: '/v1/cloudRecord',
      remoteAddress: '127.0.0.1',
      headers: { 'content-type': 'application/json', 'x-forwarded-for': client },
      payload: { app_id: `app-of-${client}`, project_id: 'p', channel: 'c', sign_key: 'wrong' },
    });

  test('are counted per client when the proxy is trusted: one flooding client does not lock out another', async () => {
    const { app } = buildApp({ config: { ...defaultConfig, failedAuthPerMin: 3, trustProxy: '127.0.0.1', logLevel: 'silent' }, db: openDatabase(':memory:') });
    const flood = [];
    for (let i = 0; i < 4; i++) flood.push((await start(app, '198.51.100.1')).statusCode);
    expect(flood).toEqual([401, 401, 401, 429]);
    expect((await start(app, '203.0.113.9')).statusCode).toBe(401);
  });

  test('are counted for the proxy itself when it is not trusted (the header is anyone\'s to write)', async () => {
    const { app } = buildApp({ config: { ...defaultConfig, failedAuthPerMin: 3, logLevel: 'silent' }, db: openDatabase(':memory:') });
    for (let i = 0; i < 3; i++) await start(app, `198.51.100.${i}`);
    expect((await start(app, '203.0.113.9')).statusCode).toBe(429);
  });
});

describe('connections from one address', () => {
  const sockets: Socket[] = [];
  afterAll(() => sockets.forEach((s) => s.destroy()));

  /** Opens a connection from `localAddress`; resolves true if it is still open a moment later. */
  async function stillOpen(port: number, localAddress: string) {
    const socket = connect({ port, host: '127.0.0.1', localAddress });
    sockets.push(socket);
    socket.on('error', () => {});
    await once(socket, 'connect');
    const closed = once(socket, 'close').then(() => false);
    return Promise.race([closed, new Promise((r) => setTimeout(() => r(true), 200))]);
  }

  test('are capped at maxConnectionsPerAddress; another address still gets in', async () => {
    const { app } = buildApp({ config: { ...defaultConfig, maxConnectionsPerAddress: 3, logLevel: 'silent' }, db: openDatabase(':memory:') });
    await app.listen({ host: '127.0.0.1', port: 0 });
    const port = (app.server.address() as { port: number }).port;
    try {
      const first = await Promise.all(Array.from({ length: 5 }, () => stillOpen(port, '127.0.0.1')));
      expect(first.filter(Boolean)).toHaveLength(3);
      expect(await stillOpen(port, '127.0.0.2')).toBe(true);
      // A slot given back is taken again.
      sockets[0]!.destroy();
      await new Promise((r) => setTimeout(r, 100));
      expect(await stillOpen(port, '127.0.0.1')).toBe(true);
    } finally {
      sockets.forEach((s) => s.destroy());
      await app.close();
    }
  });
});
