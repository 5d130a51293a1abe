/**
 * For the launcher's tests: a copy of the installed `electron` package in a
 * temporary folder (so its binary can be "installed" without touching
 * node_modules), local HTTP servers standing in for Electron's release host,
 * and a small archive laid out as Electron's.
 */
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { copyFileSync, mkdirSync, mkdtempSync, symlinkSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { type ElectronPackage, electronPackage } from '../../scripts/launch/electron-runtime';
import { PYTHON } from '../support/requirements';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

/**
 * The installed `electron` package's own files (package.json, install.js,
 * checksums.json) in a fresh folder whose node_modules is the repository's, so
 * install.js finds `@electron/get` as it does in place.
 */
export function electronPackageCopy(): ElectronPackage & { root: string } {
  const real = electronPackage();
  const root = mkdtempSync(path.join(os.tmpdir(), 'studio-electron-'));
  symlinkSync(path.join(repoRoot, 'node_modules'), path.join(root, 'node_modules'), 'dir');
  const dir = path.join(root, 'electron');
  mkdirSync(dir);
  for (const file of ['package.json', 'install.js', 'checksums.json'])
    copyFileSync(path.join(real.dir, file), path.join(dir, file));
  return { dir, version: real.version, root };
}

/** The archive name Electron's installer asks for on this machine. */
export function artifactName(version: string): string {
  return `electron-v${version}-${process.platform}-${process.arch}.zip`;
}

/** Where Electron's archive keeps its executable on this platform (as install.js's path.txt says). */
export function executableInArchive(): string {
  if (process.platform === 'darwin') return 'Electron.app/Contents/MacOS/Electron';
  return process.platform === 'win32' ? 'electron.exe' : 'electron';
}

/** A zip laid out as Electron's (an executable and `version`), with its SHA-256. */
export function fakeElectronArchive(version: string): { bytes: Buffer; sha256: string } {
  const script = [
    'import io, sys, zipfile',
    'buffer = io.BytesIO()',
    "with zipfile.ZipFile(buffer, 'w') as archive:",
    '    executable = zipfile.ZipInfo(sys.argv[1])',
    '    executable.external_attr = 0o100755 << 16',
    "    archive.writestr(executable, '#!/bin/sh\\necho fake electron\\n')",
    "    archive.writestr('version', 'v' + sys.argv[2])",
    'sys.stdout.buffer.write(buffer.getvalue())',
  ].join('\n');
  const bytes = execFileSync(PYTHON, ['-c', script, executableInArchive(), version]);
  return { bytes, sha256: createHash('sha256').update(bytes).digest('hex') };
}

export interface Mirror {
  /** The address to give ELECTRON_MIRROR (with its trailing slash). */
  url: string;
  /** Request paths in the order they came. */
  requests: string[];
  close(): Promise<void>;
}

/** A local HTTP server standing in for a mirror; `handle` answers each request. */
export async function startMirror(
  handle: (req: IncomingMessage, res: ServerResponse) => void,
): Promise<Mirror> {
  const requests: string[] = [];
  const server: Server = createServer((req, res) => {
    requests.push(req.url ?? '');
    handle(req, res);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/`,
    requests,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** A port on 127.0.0.1 where nothing listens (it was free a moment ago). */
export async function closedPort(): Promise<number> {
  const mirror = await startMirror(() => {});
  const port = Number(new URL(mirror.url).port);
  await mirror.close();
  return port;
}
