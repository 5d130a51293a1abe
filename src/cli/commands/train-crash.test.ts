/**
 * Crashes as they happen to a user: `convnet-studio train` killed with
 * SIGKILL (kill -9) in the middle of training and in the middle of writing a
 * checkpoint, again and again, then resumed; a run that diverges; and two
 * runs started at once.
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { tempDirs } from '../../../test/support/temp-dirs';
import type { EpochEvent, TrainingEvent } from '../../api/training-protocol';
import { loadCheckpoint } from '../../engine/run/checkpoint';

const repoRoot = fileURLToPath(new URL('../../..', import.meta.url));
const bin = join(repoRoot, 'bin/convnet-studio.mjs');
const tiny = join(repoRoot, 'test/fixtures/tiny-cnn.json');
// 8 batches an epoch, a checkpoint before every batch (the interval is a microsecond).
const run = `train ${tiny} --dataset sample --backend cpu --limit-train 128 --limit-val 32 --batch-size 16 --epochs 3 --checkpoint-minutes 1e-8 --json`;
const tempDir = tempDirs('cs-crash-');

const parse = (stdout: string) =>
  stdout
    .split('\n')
    .filter((line) => line.startsWith('{'))
    .map((line) => JSON.parse(line) as TrainingEvent);

/** Starts a training; `watch` sees each event and may kill it. Resolves with its events and exit. */
function train(
  args: string[],
  watch: (event: TrainingEvent, child: ChildProcess) => void = () => undefined,
  cwd = repoRoot,
): Promise<{ events: TrainingEvent[]; code: number | null; signal: string | null }> {
  const child = spawn(process.execPath, [bin, ...run.split(' '), ...args], { cwd });
  let stdout = '';
  let seen = 0;
  child.stdout.on('data', (d) => {
    stdout += d;
    const events = parse(stdout.slice(0, stdout.lastIndexOf('\n') + 1));
    for (; seen < events.length; seen++) watch(events[seen], child);
  });
  return new Promise((resolve) =>
    child.on('close', (code, signal) => resolve({ events: parse(stdout), code, signal })),
  );
}

const learning = (e: EpochEvent) => [e.epoch, e.trainLoss, e.trainAcc, e.valLoss, e.valAcc];
const epochsOf = (events: TrainingEvent[]) =>
  events.filter((e): e is EpochEvent => e.event === 'epoch');
const temporaries = (out: string) =>
  [...readdirSync(out), ...readdirSync(join(out, 'checkpoint'))].filter((f) => f.endsWith('.tmp'));

describe('convnet-studio train killed with -9', () => {
  it('loses nothing, killed again and again while training and while writing checkpoints: resumed, it ends where an uninterrupted run ends', async () => {
    const straight = await train(['--out', join(tempDir(), 'straight')]);
    expect(straight.code).toBe(0);
    const out = join(tempDir(), 'killed');
    const first = await train(['--out', out], (event, child) => {
      if (event.event === 'batch' && event.epoch === 1 && event.batch >= 3) child.kill('SIGKILL');
    });
    expect(first.signal).toBe('SIGKILL');
    for (let round = 0; round < 4; round++) {
      const whileWriting = round % 2 === 0;
      let fifo = '';
      let silence: NodeJS.Timeout | undefined;
      const resumed = await train(['--out', out, '--resume'], (event, child) => {
        clearTimeout(silence);
        if (event.event !== 'checkpoint' || !event.batch || fifo) return;
        if (!whileWriting) {
          child.kill('SIGKILL');
          return;
        }
        // The next checkpoint's temporary file becomes a pipe nobody reads: the process blocks
        // inside that write; once it has gone quiet, it is killed there.
        const pipe = join(out, 'checkpoint', `checkpoint.safetensors.${child.pid}.tmp`);
        // (Lost the race with a write of that very file: try at the next checkpoint.)
        if (spawnSync('mkfifo', [pipe]).status !== 0) return;
        fifo = pipe;
        const killWhenQuiet = () => {
          clearTimeout(silence);
          silence = setTimeout(() => child.kill('SIGKILL'), 1500);
        };
        killWhenQuiet();
        child.stdout?.on('data', killWhenQuiet);
      });
      clearTimeout(silence);
      expect(resumed.signal).toBe('SIGKILL');
      // The checkpoint before the kill is whole and verified; the cut write left only its temporary file.
      expect(() => loadCheckpoint(out)).not.toThrow();
      expect(temporaries(out)).toEqual(whileWriting ? [fifo.split('/').at(-1)] : []);
    }
    const last = await train(['--out', out, '--resume']);
    expect(last.code).toBe(0);
    expect(last.events.at(-1)?.event).toBe('done');
    expect(temporaries(out)).toEqual([]);
    const recorded = parse(readFileSync(join(out, 'metrics.jsonl'), 'utf8'));
    // Every epoch once, with exactly the numbers of the run that was never interrupted.
    expect(epochsOf(recorded).map(learning)).toEqual(epochsOf(straight.events).map(learning));
  }, 300_000);

  it('ends a diverging run with exit code 1 and says why', () => {
    const r = spawnSync(
      process.execPath,
      [
        bin,
        'train',
        'lenet',
        '--dataset',
        'sample',
        '--backend',
        'cpu',
        '--limit-train',
        '64',
        '--limit-val',
        '16',
        '--batch-size',
        '16',
        '--epochs',
        '1',
        '--lr',
        '1e6',
        '--out',
        join(tempDir(), 'diverged'),
      ],
      { cwd: repoRoot, encoding: 'utf8' },
    );
    expect(r.status).toBe(1);
    expect(r.stdout).toMatch(
      /error: the loss exploded to .* training diverged\. Lower the learning rate/,
    );
  });

  it('gives two runs started in the same second folders of their own', async () => {
    const cwd = tempDir();
    // Runs of this name for the next minute already exist, as if started a moment ago.
    const stamp = (ms: number) =>
      new Date(ms).toISOString().replace(/[-:]/g, '').replace('T', '-').slice(0, 15);
    const now = Date.now();
    for (let s = 0; s < 60; s++)
      mkdirSync(join(cwd, 'runs', `tiny-cnn-${stamp(now + s * 1000)}`), { recursive: true });
    const brief = ['--epochs', '1', '--limit-train', '16'];
    const [a, b] = await Promise.all([train(brief, undefined, cwd), train(brief, undefined, cwd)]);
    const folders = [a, b].map((r) => {
      expect(r.code).toBe(0);
      return (r.events.at(-1) as { outDir: string }).outDir;
    });
    expect(folders[0]).not.toBe(folders[1]);
    for (const folder of folders) {
      expect(folder).toMatch(/^runs\/tiny-cnn-\d{8}-\d{6}-\d+$/);
      expect(existsSync(join(cwd, folder, 'weights.safetensors'))).toBe(true);
    }
  }, 120_000);
});
