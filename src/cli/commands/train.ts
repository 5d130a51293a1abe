/**
 * `convnet-studio train <preset|file.json> [flags]`: trains in a worker
 * thread, showing a progress bar and an epoch table (plain lines when the
 * output is not a terminal) or, with --json, one TrainingEvent per line.
 * Ctrl-C stops after the current batch and leaves a checkpoint to resume.
 */
import { basename, extname } from 'node:path';
import type { Command } from 'commander';
import type { TrainingEvent } from '../../api/training-protocol';
import { inferValidGraph } from '../../core/infer';
import { ProjectError } from '../../core/issues';
import { formatBytes } from '../../core/summary';
import { resolveTrainOptions, type TrainOptions } from '../../core/training/options';
import { startTrainingJob } from '../../engine/job';
import { createRunFolder } from '../../engine/run/folder';
import { CliError, ProjectSourceError } from '../errors';
import { addTrainingFlags, flagError, readTrainingFlags } from '../option-flags';
import { loadProjectSource, projectDataFolder } from '../project-source';

/** A new run folder of its own: runs/<name>-<UTC date and time>, with -2, -3, … if that is taken. */
function newRunFolder(arg: string): string {
  const stem = basename(arg, extname(arg)).replace(/[^A-Za-z0-9_-]+/g, '-');
  const stamp = new Date().toISOString().replace(/[-:]/g, '').replace('T', '-').slice(0, 15);
  return createRunFolder('runs', `${stem}-${stamp}`);
}

const formatSeconds = (s: number) => {
  if (!Number.isFinite(s)) return '?';
  const total = Math.round(s);
  const h = Math.floor(total / 3600);
  const m = Math.floor((total % 3600) / 60);
  const sec = total % 60;
  return h > 0 ? `${h}h${String(m).padStart(2, '0')}m` : `${m}:${String(sec).padStart(2, '0')}`;
};

/** A text progress bar of `width` cells. */
const bar = (fraction: number, width = 30) => {
  const filled = Math.round(Math.min(1, fraction) * width);
  return `[${'#'.repeat(filled)}${'.'.repeat(width - filled)}]`;
};

/** Renders events for a person: a live bar on a terminal, plain lines otherwise. */
export function createProgressPrinter(
  write: (text: string) => void,
  isTTY: boolean,
): (event: TrainingEvent) => void {
  let barShown = false;
  let lastPlainPercent = -1;
  const clearBar = () => {
    if (barShown) write('\r\x1b[2K');
    barShown = false;
  };
  const header = `${'epoch'.padStart(5)}  ${'train loss'.padStart(10)}  ${'train acc'.padStart(9)}  ${'val loss'.padStart(8)}  ${'val acc'.padStart(7)}  ${'samples/s'.padStart(9)}  ${'lr'.padStart(8)}  ${'time'.padStart(6)}`;
  return (event) => {
    switch (event.event) {
      case 'download': {
        const size = event.total
          ? `${formatBytes(event.loaded)} of ${formatBytes(event.total)}`
          : formatBytes(event.loaded);
        if (isTTY) {
          write(
            `\r\x1b[2Kdownloading ${event.file} ${event.total ? `${bar(event.loaded / event.total)} ` : ''}${size}`,
          );
          barShown = true;
        } else if (event.loaded === 0) {
          write(`downloading ${event.url}\n`);
        } else if (event.loaded === event.total) {
          write(`downloaded ${event.file} (${formatBytes(event.total)})\n`);
        }
        return;
      }
      case 'start':
        clearBar();
        write(
          `Training on ${event.dataset.name} (${event.dataset.trainSize} train / ${event.dataset.valSize} val images from ${event.dataset.source}), ` +
            `backend ${event.backend} (${event.device})${event.backend === 'webgpu' ? `, ${event.execution === 'compiled' ? 'compiled step' : 'op by op'}` : ''}${event.resumedFromEpoch !== undefined ? `, resuming after epoch ${event.resumedFromEpoch}` : ''}\n`,
        );
        if (event.backendNote) write(`note: ${event.backendNote}\n`);
        write(`${header}\n`);
        return;
      case 'batch': {
        const fraction = event.batch / event.batches;
        if (isTTY) {
          write(
            `\r\x1b[2Kepoch ${event.epoch} ${bar(fraction)} ${event.batch}/${event.batches}  loss ${event.loss.toFixed(4)}  ${Math.round(event.samplesPerSec)} samples/s  ETA ${formatSeconds(event.etaSec)}`,
          );
          barShown = true;
        } else {
          const percent = Math.floor(fraction * 4) * 25;
          if (percent !== lastPlainPercent && percent < 100) {
            lastPlainPercent = percent;
            write(
              `epoch ${event.epoch}: batch ${event.batch}/${event.batches}, loss ${event.loss.toFixed(4)}, ${Math.round(event.samplesPerSec)} samples/s, ETA ${formatSeconds(event.etaSec)}\n`,
            );
          }
        }
        return;
      }
      case 'epoch':
        clearBar();
        lastPlainPercent = -1;
        write(
          `${`${event.epoch}/${event.epochs}`.padStart(5)}  ${event.trainLoss.toFixed(4).padStart(10)}  ${event.trainAcc.toFixed(4).padStart(9)}  ${event.valLoss.toFixed(4).padStart(8)}  ${event.valAcc.toFixed(4).padStart(7)}  ${Math.round(event.samplesPerSec).toString().padStart(9)}  ${event.lr.toPrecision(3).padStart(8)}  ${formatSeconds(event.seconds).padStart(6)}\n`,
        );
        return;
      case 'paused':
      case 'resumed':
        clearBar();
        write(`${event.event} at epoch ${event.epoch}, batch ${event.batch}\n`);
        return;
      case 'stopped':
        clearBar();
        write(`stopped at epoch ${event.epoch}, batch ${event.batch}\n`);
        return;
      case 'error':
        clearBar();
        write(`error: ${event.message}\n`);
        return;
      case 'warning':
        clearBar();
        write(`warning: ${event.message}\n`);
        return;
      case 'done':
        clearBar();
        write(
          `done: ${event.epochs} epoch${event.epochs === 1 ? '' : 's'} in ${formatSeconds(event.seconds)} on ${event.backend}${event.backend === 'webgpu' ? ` (${event.execution === 'compiled' ? 'compiled step' : 'op by op'})` : ''}; val acc ${event.valAcc.toFixed(4)}, val loss ${event.valLoss.toFixed(4)}\n`,
        );
        return;
      default:
        return;
    }
  };
}

export function registerTrain(program: Command): void {
  const command = program
    .command('train')
    .description(
      'Train a preset or project on Fashion-MNIST (or MNIST, a folder, the bundled sample)',
    )
    .argument('<preset|file.json>', 'a preset name (see `presets`) or a project file');
  addTrainingFlags(command)
    .option('--json', 'print one JSON event per line (last: done, stopped or error)')
    .addHelpText(
      'after',
      `
Settings come from the preset's (or project's) training section, then these flags.
The run folder gets run.json, project.json, weights.safetensors, metrics.jsonl,
curves.svg, curves.png and checkpoint/. Ctrl-C stops after the current batch; continue with
the same command plus --out <run folder> --resume.

Examples:
  $ npx convnet-studio train lenet --epochs 10 --lr 0.1 --batch-size 128
  $ npx convnet-studio train resnet18 --resize 96,96 --limit-train 1024 --epochs 1
  $ npx convnet-studio train lenet --dataset sample --epochs 2 --json
  $ npx convnet-studio train lenet --backend pytorch --epochs 10 --lr 0.1
  $ npx convnet-studio train lenet --backend pytorch --nproc-per-node 2 --epochs 1`,
    )
    .action(async (arg: string, flags: Record<string, unknown>) => {
      const projectSource = loadProjectSource(arg);
      const { project, source } = projectSource;
      try {
        inferValidGraph(project);
      } catch (err) {
        if (err instanceof ProjectError) throw new ProjectSourceError(source, err.issues);
        throw err;
      }
      const overrides = readTrainingFlags(flags);
      if (overrides.resume && !overrides.outDir) {
        throw new CliError('--resume needs --out <run folder> naming the run to continue');
      }
      let options: TrainOptions;
      try {
        options = resolveTrainOptions(project, overrides);
      } catch (err) {
        throw flagError(err);
      }
      options.dataDir = projectDataFolder(projectSource, overrides.dataDir) ?? options.dataDir;
      const outDir = options.outDir ?? newRunFolder(arg);
      options.outDir = outDir;
      const print = flags.json
        ? (event: TrainingEvent) => process.stdout.write(`${JSON.stringify(event)}\n`)
        : createProgressPrinter(
            (text) => process.stdout.write(text),
            process.stdout.isTTY === true,
          );
      const job = startTrainingJob(project, options, print);
      let interrupts = 0;
      const onInterrupt = () => {
        interrupts++;
        if (interrupts > 1) process.exit(130);
        process.stderr.write('\nstopping after this batch (Ctrl-C again to quit at once)…\n');
        job.stop();
      };
      process.on('SIGINT', onInterrupt);
      const final = await job.done;
      process.off('SIGINT', onInterrupt);
      const resumeCommand = `npx convnet-studio train ${arg} --out ${outDir} --resume`;
      if (final.event === 'stopped') {
        process.stderr.write(
          final.checkpoint
            ? `checkpoint saved in ${final.checkpoint}; continue with:\n  ${resumeCommand}\n`
            : 'stopped before any checkpoint could be written\n',
        );
        process.exitCode = 130;
      } else if (final.event === 'error') {
        process.exitCode = 1;
      } else if (!flags.json) {
        process.stdout.write(
          `run folder ${outDir}: run.json, project.json, weights.safetensors, metrics.jsonl, curves.svg, curves.png, checkpoint/\n`,
        );
      }
    });
}
