/**
 * The layering of src/ (docs/architecture.md), enforced: every import of every
 * source file is resolved and checked against what its part may depend on.
 * Tests are exempt (they may reach across parts to set up real pieces).
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const SRC = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../src');

type Part =
  | 'core'
  | 'api'
  | 'node'
  | 'engine'
  | 'exporters'
  | 'backend'
  | 'server'
  | 'main'
  | 'preload'
  | 'cli'
  | 'renderer';

/** Which parts each part may import, and why the others are off limits. */
const MAY_IMPORT: Record<Part, readonly Part[]> = {
  // Pure: the document, catalog, inference, compile, presets. Runs in Node and the browser.
  core: [],
  // The contract between the UI and a host: types, schemas, nothing that runs a job.
  api: ['core'],
  // Node-only helpers shared by several parts (whole-or-nothing writes, shipped files).
  node: ['core'],
  // Training, backends and data; the PyTorch engine trains with the PyTorch export's code.
  engine: ['core', 'api', 'node', 'exporters'],
  // Formats need no training code.
  exporters: ['core', 'node'],
  // StudioApi implemented over the engine and the exporters.
  backend: ['core', 'api', 'node', 'engine', 'exporters'],
  // The hosts are thin: they serve the UI and forward to the backend; they never import the UI.
  server: ['core', 'api', 'node', 'backend'],
  main: ['core', 'api', 'node', 'backend'],
  preload: ['api'],
  cli: ['core', 'api', 'node', 'engine', 'exporters', 'backend', 'server'],
  // The UI sees the engine only through the api.
  renderer: ['core', 'api'],
};

/** Packages a part must not import (it runs where they do not exist, or must stay pure). */
const FORBIDDEN_PACKAGES: Partial<Record<Part, RegExp>> = {
  core: /^(node:|fs$|path$|react|@xyflow|electron|ws$|zustand)/,
  api: /^(node:|fs$|path$|react|@xyflow|electron|ws$|zustand|@tensorflow)/,
  renderer: /^(node:|fs$|path$|electron|ws$)/,
  preload: /^(node:|fs$|path$|react|ws$|@tensorflow)/,
};

function sourceFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const full = path.join(dir, name);
    if (statSync(full).isDirectory()) return sourceFiles(full);
    return /\.(ts|tsx|mts|mjs)$/.test(name) && !/\.(test|e2e)\.tsx?$|\.d\.ts$/.test(name)
      ? [full]
      : [];
  });
}

function partOf(file: string): Part {
  const part = path.relative(SRC, file).split(path.sep)[0];
  if (!(part in MAY_IMPORT)) throw new Error(`${file} is in no known part of src/`);
  return part as Part;
}

const IMPORT =
  /(?:^|[\s;])(?:import|export)\s[^'"]*?from\s*['"]([^'"]+)['"]|import\s*\(\s*['"]([^'"]+)['"]\s*\)|^import\s*['"]([^'"]+)['"]/gm;

function importsOf(file: string): string[] {
  const text = readFileSync(file, 'utf8');
  return [...text.matchAll(IMPORT)].map((m) => m[1] ?? m[2] ?? m[3]);
}

/** The repository's package.json (the CLI reads its version) is the one file outside src/ allowed. */
const PACKAGE_JSON = path.resolve(SRC, '../package.json');

/** What is wrong with one file's imports, one line per crossing. */
function crossings(file: string, specs: string[]): string[] {
  const from = partOf(file);
  const where = path.relative(SRC, file);
  return specs.flatMap((spec) => {
    if (!spec.startsWith('.')) {
      return FORBIDDEN_PACKAGES[from]?.test(spec)
        ? [`${where} (${from}) imports the package ${spec}`]
        : [];
    }
    const target = path.resolve(path.dirname(file), spec);
    if (target === PACKAGE_JSON) return [];
    if (!target.startsWith(SRC + path.sep)) return [`${where} imports ${spec}, outside src/`];
    const to = partOf(target);
    return to === from || MAY_IMPORT[from].includes(to)
      ? []
      : [`${where} (${from}) imports ${spec} (${to})`];
  });
}

const files = sourceFiles(SRC);

describe('the layering of src/ (docs/architecture.md)', () => {
  it('finds the source files and their imports', () => {
    expect(files.length).toBeGreaterThan(100);
    expect(importsOf(path.join(SRC, 'renderer/main.tsx')).length).toBeGreaterThan(3);
  });

  it('has no import that crosses a boundary', () => {
    expect(files.flatMap((file) => crossings(file, importsOf(file)))).toEqual([]);
  });

  it('names a crossing when there is one', () => {
    const renderer = path.join(SRC, 'renderer/training/View.tsx');
    expect(
      crossings(renderer, ['../../engine/training/trainer', 'node:fs', '../../api/studio-api']),
    ).toEqual([
      'renderer/training/View.tsx (renderer) imports ../../engine/training/trainer (engine)',
      'renderer/training/View.tsx (renderer) imports the package node:fs',
    ]);
    expect(
      crossings(path.join(SRC, 'core/infer.ts'), ['../backend/dispatch', 'react']),
    ).toHaveLength(2);
  });
});
