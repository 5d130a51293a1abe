/** `convnet-studio export <run-dir|file.json|preset> --format tfjs|onnx|pytorch --out DIR`. */
import type { Command } from 'commander';
import { ProjectError } from '../../core/issues';
import { formatBytes } from '../../core/summary';
import { byteLength, exportFormats, formatLabels, isExportFormat } from '../../exporters/index';
import { bundleFor, readExportSource, writeBundle } from '../../exporters/node-io';
import { WouldReplaceUserFiles } from '../../node/owned-files';
import { CliError, ProjectSourceError } from '../errors';

export function registerExport(program: Command): void {
  program
    .command('export')
    .description('Write a model as TensorFlow.js Layers, ONNX or a PyTorch package')
    .argument(
      '<run-dir|file.json|preset>',
      'a run folder from `train --out` (project.json + weights.safetensors), a project file, or a preset',
    )
    .requiredOption('--format <format>', exportFormats.join(', '))
    .requiredOption('--out <dir>', 'folder to write into (created if needed)')
    .option(
      '--force',
      'replace files in --out that the studio did not write (or that changed since it did)',
    )
    .addHelpText(
      'after',
      `
Formats:
${exportFormats.map((f) => `  ${f.padEnd(8)} ${formatLabels[f]}`).join('\n')}

Files in --out that an earlier export wrote (unchanged since) are replaced;
any other file of the same name is left alone and the export refused, unless
--force. All files are written, or none.

A project file or preset has no trained weights: it is exported with freshly
initialised ones (as training would start), and the command says so.

Examples:
  $ npx convnet-studio train lenet --epochs 1 --out runs/lenet
  $ npx convnet-studio export runs/lenet --format onnx --out exports/lenet-onnx
  $ npx convnet-studio export resnet18 --format pytorch --out exports/resnet18`,
    )
    .action(async (spec: string, opts: { format: string; out: string; force?: boolean }) => {
      if (!isExportFormat(opts.format)) {
        throw new CliError(
          `--format must be one of ${exportFormats.join(', ')}, got '${opts.format}'`,
        );
      }
      let source: ReturnType<typeof readExportSource>;
      try {
        source = readExportSource(spec);
      } catch (err) {
        if (err instanceof ProjectError) throw new ProjectSourceError(spec, err.issues);
        throw new CliError((err as Error).message);
      }
      let result: Awaited<ReturnType<typeof bundleFor>>;
      try {
        result = await bundleFor(source, opts.format);
      } catch (err) {
        if (err instanceof ProjectError) throw new ProjectSourceError(spec, err.issues);
        throw new CliError((err as Error).message);
      }
      try {
        writeBundle(result.bundle, opts.out, {
          force: opts.force === true,
          howToConfirm: 'add --force to replace them',
        });
      } catch (err) {
        if (err instanceof WouldReplaceUserFiles) throw new CliError(err.message);
        throw err;
      }
      const write = (line: string) => process.stdout.write(`${line}\n`);
      write(`exported ${source.description} as ${formatLabels[opts.format]} to ${opts.out}`);
      if (result.freshWeights) {
        write('note: it has no trained weights, so it was exported with freshly initialised ones');
      }
      for (const file of result.bundle.files) {
        write(
          `  ${file.path.padEnd(28)} ${formatBytes(byteLength(file)).padStart(9)}  ${file.description}`,
        );
      }
    });
}
