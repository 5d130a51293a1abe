/**
 * A proxy set in the environment carries Electron's download (a file of its
 * own: `@electron/get` installs the proxy for the whole process). The proxy
 * tunnels (CONNECT, as undici's proxy agent asks even for http://) to a local
 * mirror standing in for a host this machine cannot resolve.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { connect } from 'node:net';
import { afterAll, expect, it, vi } from 'vitest';
import { chooseHost } from '../../scripts/launch/choose-host';
import { artifactName, electronPackageCopy, startMirror } from './support';

const mirror = await startMirror((_req, res) => res.writeHead(404, 'Not Found').end());
const tunnels: string[] = [];
const proxy = createServer((_req, res) => res.writeHead(405).end());
proxy.on('connect', (req, client) => {
  tunnels.push(req.url ?? '');
  const upstream = connect(Number(new URL(mirror.url).port), '127.0.0.1', () => {
    client.write('HTTP/1.1 200 Connection Established\r\n\r\n');
    upstream.pipe(client).pipe(upstream);
  });
});
await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve));
afterAll(async () => {
  proxy.closeAllConnections();
  proxy.close();
  await mirror.close();
});

it('downloads through HTTP_PROXY: the mirror is reached by name, through the proxy', async () => {
  const electron = electronPackageCopy();
  vi.stubEnv('electron_config_cache', `${electron.root}/cache`);
  vi.stubEnv('ELECTRON_OVERRIDE_DIST_PATH', undefined);
  // A name no resolver knows: only the proxy can reach it.
  vi.stubEnv('ELECTRON_MIRROR', 'http://electron-mirror.invalid/');
  vi.stubEnv('HTTP_PROXY', `http://127.0.0.1:${(proxy.address() as AddressInfo).port}`);
  vi.stubEnv('NO_PROXY', '');
  const choice = await chooseHost({ args: [], platform: 'linux', electron, say: () => {} });
  expect(tunnels).toEqual(['electron-mirror.invalid:80']);
  expect(mirror.requests).toEqual([`/v${electron.version}/${artifactName(electron.version)}`]);
  expect(choice).toMatchObject({
    host: 'web',
    why: expect.stringContaining('electron-mirror.invalid answered 404 Not Found'),
  });
});
