/** `convnet-studio presets [--json]`: the classic networks with their input, size and training set-up. */
import type { Command } from 'commander';
import { inferValidGraph } from '../../core/infer';
import { presets } from '../../core/presets/index';
import { formatInteger } from '../../core/summary';

export function registerPresets(program: Command): void {
  program
    .command('presets')
    .description('List the built-in networks of the course (LeNet … DenseNet)')
    .option('--json', 'print a JSON array instead of a table')
    .action((opts: { json?: boolean }) => {
      const rows = presets.map((preset) => ({
        name: preset.name,
        title: preset.title,
        description: preset.description,
        input: preset.input,
        params: inferValidGraph(preset.build()).totals.params,
        training: preset.training,
      }));
      if (opts.json) {
        process.stdout.write(`${JSON.stringify(rows, null, 2)}\n`);
        return;
      }
      const table = [
        ['Name', 'Network', 'Input', 'Params', 'Training'],
        ...rows.map((r) => [
          r.name,
          r.title,
          r.input.join('×'),
          formatInteger(r.params),
          `lr ${r.training.lr}, batch ${r.training.batchSize}, ${r.training.epochs} epochs`,
        ]),
      ];
      const widths = table[0].map((_, col) => Math.max(...table.map((line) => line[col].length)));
      for (const line of table) {
        process.stdout.write(
          `${line
            .map((cell, col) => (col === 3 ? cell.padStart(widths[col]) : cell.padEnd(widths[col])))
            .join('  ')
            .trimEnd()}\n`,
        );
      }
      process.stdout.write('\n');
      for (const r of rows) process.stdout.write(`${r.name}: ${r.description}\n`);
    });
}
