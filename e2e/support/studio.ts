/**
 * End-to-end harness: starts the real web host (`convnet-studio serve`) on a
 * free port with its own project and state folders, and drives a real
 * Chromium with playwright-core.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtemp } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { type Browser, chromium, type Locator, type Page } from 'playwright-core';
import { afterAll, beforeAll } from 'vitest';

export const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

export interface Studio {
  url: string;
  /** The workspace the host opens and saves files in. */
  folder: string;
  stop(): Promise<void>;
  /** Ends the host at once (SIGKILL), as a crash would: nothing of it runs its shutdown. */
  kill(): Promise<void>;
}

export async function startStudio(
  options: {
    project?: string;
    env?: Record<string, string>;
    /** An existing project folder (a host restarted on it); default: a new one. */
    folder?: string;
    /** More options for `serve` (e.g. `--host`). */
    args?: string[];
  } = {},
): Promise<Studio> {
  const folder = options.folder ?? (await mkdtemp(path.join(os.tmpdir(), 'studio-e2e-')));
  const args = [
    path.join(repoRoot, 'bin/convnet-studio.mjs'),
    'serve',
    '--port',
    '0',
    '--workspace',
    folder,
    '--state-dir',
    path.join(folder, '.state'),
  ];
  if (options.project) args.push('--project', options.project);
  args.push(...(options.args ?? []));
  const child = spawn(process.execPath, args, {
    cwd: repoRoot,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, ...options.env },
  });
  const url = await new Promise<string>((resolve, reject) => {
    let output = '';
    const timer = setTimeout(
      () => reject(new Error(`the web host did not start in 60 s:\n${output}`)),
      60_000,
    );
    const read = (chunk: Buffer) => {
      output += chunk.toString();
      const match = /served at (\S+)/.exec(output);
      if (match) {
        clearTimeout(timer);
        resolve(match[1]);
      }
    };
    child.stdout?.on('data', read);
    child.stderr?.on('data', read);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`the web host exited with code ${code}:\n${output}`));
    });
  });
  return {
    url,
    folder,
    stop: () => stopProcess(child, 'SIGTERM'),
    kill: () => stopProcess(child, 'SIGKILL'),
  };
}

function stopProcess(child: ChildProcess, signal: NodeJS.Signals): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    child.once('exit', () => resolve());
    child.kill(signal);
  });
}

export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
    headless: true,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
}

/** A layer card on the canvas, by node id. */
export function node(page: Page, id: string): Locator {
  return page.getByTestId(`node-${id}`);
}

export function nodeShape(page: Page, id: string): Locator {
  return node(page, id).getByTestId('shape');
}

/** The node ids on the canvas, in document order. */
export function nodeIds(page: Page): Promise<string[]> {
  return page
    .locator('[data-node-id]')
    .evaluateAll((els) => els.map((e) => e.getAttribute('data-node-id')!));
}

/**
 * Drags a layer from the palette and drops it on the canvas: at (fx, fy),
 * fractions of the canvas size, or onto an element (a layer card, to connect
 * the new layer after the selected one; an edge, to insert it there).
 */
export async function dropLayer(
  page: Page,
  paletteKey: string,
  at: { fx?: number; fy?: number; onto?: Locator; point?: { x: number; y: number } } = {},
): Promise<string> {
  const before = new Set(await nodeIds(page));
  const canvas = page.getByTestId('canvas');
  const box = (await canvas.boundingBox())!;
  const target = at.onto ? await settledBox(at.onto) : null;
  const point = at.point
    ? { x: at.point.x - box.x, y: at.point.y - box.y }
    : target
      ? { x: target.x - box.x + target.width / 2, y: target.y - box.y + target.height / 2 }
      : { x: box.width * (at.fx ?? 0.85), y: box.height * (at.fy ?? 0.5) };
  await page.getByTestId(`palette-${paletteKey}`).dragTo(canvas, { targetPosition: point });
  let added: string[] = [];
  for (let i = 0; i < 50 && added.length === 0; i++) {
    added = (await nodeIds(page)).filter((id) => !before.has(id));
    if (added.length === 0) await new Promise((resolve) => setTimeout(resolve, 40));
  }
  if (added.length !== 1) throw new Error(`dropping ${paletteKey} added ${added.length} nodes`);
  return added[0];
}

/** A locator's box once it has stopped moving (layout and fit-view animate nodes into place). */
async function settledBox(
  locator: Locator,
): Promise<{ x: number; y: number; width: number; height: number }> {
  let previous = await locator.boundingBox();
  for (let i = 0; i < 50; i++) {
    await new Promise((resolve) => setTimeout(resolve, 60));
    const current = await locator.boundingBox();
    if (current && previous && current.x === previous.x && current.y === previous.y) return current;
    previous = current;
  }
  throw new Error('the node kept moving for 3 s; cannot drag to it');
}

/**
 * Drags from one node's output port to another's input port, as a user
 * connects layers; `miss` pixels off the ports' centres (their hit areas are
 * larger than the dots).
 */
export async function connect(page: Page, source: string, target: string, miss = 0): Promise<void> {
  const from = await settledBox(node(page, source).locator('.react-flow__handle.source'));
  const to = await settledBox(node(page, target).locator('.react-flow__handle.target'));
  await page.mouse.move(from.x + from.width / 2 + miss, from.y + from.height / 2 + miss);
  await page.mouse.down();
  await page.mouse.move(to.x + to.width / 2 + miss, to.y + to.height / 2 - miss, { steps: 12 });
  await page.mouse.up();
}

/** A point on the canvas's edge source → target, halfway along it (screen coordinates). */
export async function edgeMidpoint(
  page: Page,
  source: string,
  target: string,
): Promise<{ x: number; y: number }> {
  const edge = page
    .getByTestId('canvas')
    .locator(`.react-flow__edge[data-id^="${source}->${target}#"] .react-flow__edge-path`);
  await settledBox(edge);
  return edge.evaluate((el) => {
    const path = el as SVGPathElement;
    const at = path.getPointAtLength(path.getTotalLength() / 2);
    const m = path.getScreenCTM()!;
    return { x: at.x * m.a + at.y * m.c + m.e, y: at.x * m.b + at.y * m.d + m.f };
  });
}

/** Sets a parameter of the selected layer in the inspector. */
export async function setField(page: Page, name: string, value: string): Promise<void> {
  await page.getByTestId(`field-${name}`).fill(value);
}

/** Leaves any text field, so canvas shortcuts apply. */
export async function leaveFields(page: Page): Promise<void> {
  await page.evaluate(() => (document.activeElement as HTMLElement | null)?.blur());
}

export interface StudioPage {
  studio: Studio;
  browser: Browser;
  page: Page;
  /** Uncaught errors of the page, for tests to assert there were none. */
  pageErrors: string[];
}

/**
 * Starts a web host with `project` (none: as `serve` alone) and opens it in Chromium for the test file
 * (beforeAll), closing both afterwards (afterAll). Dialogs are accepted.
 */
export function studioPageForFile(
  project: string | undefined,
  viewport = { width: 1500, height: 950 },
): StudioPage {
  const session = { pageErrors: [] as string[] } as StudioPage;
  beforeAll(async () => {
    [session.studio, session.browser] = await Promise.all([
      startStudio({ project }),
      launchChromium(),
    ]);
    session.page = await session.browser.newPage({ viewport });
    session.page.on('pageerror', (err) => session.pageErrors.push(err.message));
    session.page.on('dialog', (dialog) => void dialog.accept());
    await session.page.goto(session.studio.url);
  });
  afterAll(async () => {
    await session.browser?.close();
    await session.studio?.stop();
  });
  return session;
}
