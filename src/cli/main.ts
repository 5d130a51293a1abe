/**
 * The `convnet-studio` command line. Each command lives in its own module
 * under commands/ and registers itself on the program: adding one is an
 * import and a line in `commands` below.
 */
import { readFileSync } from 'node:fs';
import { Command } from 'commander';
import { registerPresets } from './commands/presets';
import { registerServe } from './commands/serve';
import { registerSummary } from './commands/summary';
import { describeError } from './errors';

const commands: ((program: Command) => void)[] = [registerPresets, registerSummary, registerServe];

const { version } = JSON.parse(
  readFileSync(new URL('../../package.json', import.meta.url), 'utf8'),
) as { version: string };

const program = new Command()
  .name('convnet-studio')
  .description(
    'Design, train and export convolutional networks; the studio’s engine without a window.',
  )
  .version(version)
  .showHelpAfterError('(run with --help for usage)')
  .addHelpText(
    'after',
    `
Examples:
  $ npx convnet-studio presets
  $ npx convnet-studio summary lenet
  $ npx convnet-studio summary resnet18 --input 1,1,96,96 --expand
  $ npx convnet-studio summary my-net.json --json`,
  );

for (const register of commands) register(program);

try {
  await program.parseAsync(process.argv);
} catch (err) {
  process.stderr.write(`${describeError(err)}\n`);
  process.exitCode = 1;
}
