/**
 * The `convnet-studio` command line. Each command lives in its own module
 * under commands/ and registers itself on the program: adding one is a line
 * in `commands` below. Modules load independently, so a command whose
 * dependencies fail to load reports that when run and leaves the others working.
 */
import { Command } from 'commander';
// Imported, not read from disk, so that a bundled CLI (scripts/gpu-bench.sh) knows its version too.
import packageJson from '../../package.json' with { type: 'json' };
import { CliError, describeError } from './errors';

type Register = (program: Command) => void;

// Output piped into `head` and closed early is not an error.
process.stdout.on('error', (err: NodeJS.ErrnoException) => {
  if (err.code === 'EPIPE') process.exit(0);
  throw err;
});

/** Command name → its module's register function. */
const commands: [name: string, load: () => Promise<Register>][] = [
  ['presets', async () => (await import('./commands/presets')).registerPresets],
  ['summary', async () => (await import('./commands/summary')).registerSummary],
  ['serve', async () => (await import('./commands/serve')).registerServe],
  ['export', async () => (await import('./commands/export')).registerExport],
  ['import', async () => (await import('./commands/import')).registerImport],
  ['train', async () => (await import('./commands/train')).registerTrain],
  ['bench', async () => (await import('./commands/bench')).registerBench],
  ['backends', async () => (await import('./commands/backends')).registerBackends],
];

const program = new Command()
  .name('convnet-studio')
  .description(
    'Design, train and export convolutional networks; the studio’s engine without a window.',
  )
  .version(packageJson.version)
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

// Running one command loads only its module (quick start); help and typos load them all.
const requested = commands.filter(([name]) => name === process.argv[2]);
const toLoad = requested.length > 0 ? requested : commands;
const loaded = await Promise.allSettled(toLoad.map(([, load]) => load()));
loaded.forEach((result, i) => {
  const name = toLoad[i][0];
  if (result.status === 'fulfilled') {
    result.value(program);
    return;
  }
  const reason = result.reason as Error;
  program
    .command(name)
    .description('(could not be loaded; run it to see why)')
    .allowUnknownOption()
    .allowExcessArguments()
    .action(() => {
      throw new CliError(
        `the '${name}' command could not be loaded: ${reason?.stack ?? String(reason)}`,
      );
    });
});

try {
  await program.parseAsync(process.argv);
} catch (err) {
  process.stderr.write(`${describeError(err)}\n`);
  process.exitCode = 1;
}
