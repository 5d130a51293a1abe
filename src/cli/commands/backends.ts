/**
 * `convnet-studio backends [--json]`: every engine this machine offers for
 * training (the TensorFlow.js backends best first, then PyTorch where a Python
 * with torch is found), with what each computes on or why it cannot run.
 */
import type { Command } from 'commander';
import { trainingBackends } from '../../engine/backends';

export function registerBackends(program: Command): void {
  program
    .command('backends')
    .description(
      'List the training backends of this machine (TensorFlow.js, PyTorch) and why any is missing',
    )
    .option('--json', 'print a JSON array: {"name","available","device"?,"reason"?}')
    .addHelpText(
      'after',
      `
PyTorch is looked for in CONVNET_STUDIO_PYTHON when set, else in python3 on
PATH, then /usr/bin/python3; train with it using --backend pytorch.`,
    )
    .action(async (opts: { json?: boolean }) => {
      const list = await trainingBackends();
      if (opts.json) {
        process.stdout.write(`${JSON.stringify(list, null, 2)}\n`);
        return;
      }
      const width = Math.max(...list.map((b) => b.name.length));
      for (const b of list) {
        const status = b.available ? 'available    ' : 'not available';
        const what = b.available ? (b.device ?? '') : (b.reason ?? '');
        process.stdout.write(`${b.name.padEnd(width)}  ${status}  ${what}\n`);
        // An available backend's reason is a note on how it was found.
        if (b.available && b.reason)
          process.stdout.write(`${''.padEnd(width)}  note: ${b.reason}\n`);
      }
    });
}
