import type { Command } from 'commander';
import {
  RUN_PROJECT_FILE,
  RUN_WEIGHTS_FILE,
  readTfjsModel,
  writeProjectWithWeights,
} from '../../exporters/node-io';
import { WouldReplaceUserFiles } from '../../node/owned-files';
import { CliError } from '../errors';

export function registerImport(program: Command): void {
  program
    .command('import')
    .description(
      'Open a TensorFlow.js Layers model (model.json + weights) as a project with its weights',
    )
    .argument(
      '<model.json>',
      'a TF.js Layers model: the studio’s export or one saved by tfjs/Keras',
    )
    .requiredOption(
      '--out <dir>',
      `folder for ${RUN_PROJECT_FILE} and ${RUN_WEIGHTS_FILE} (what \`export\` and the studio read)`,
    )
    .option('--force', 'replace files in --out that the studio did not write')
    .addHelpText(
      'after',
      `
Examples:
  $ npx convnet-studio import exports/lenet-tfjs/model.json --out imported/lenet
  $ npx convnet-studio export imported/lenet --format onnx --out exports/lenet-onnx`,
    )
    .action((modelJson: string, opts: { out: string; force?: boolean }) => {
      let imported: ReturnType<typeof readTfjsModel>;
      try {
        imported = readTfjsModel(modelJson);
      } catch (err) {
        throw new CliError((err as Error).message);
      }
      try {
        writeProjectWithWeights(opts.out, imported.project, imported.weights, {
          force: opts.force === true,
          howToConfirm: 'add --force to replace them',
        });
      } catch (err) {
        if (err instanceof WouldReplaceUserFiles) throw new CliError(err.message);
        throw err;
      }
      const layers = imported.project.nodes.length;
      process.stdout.write(
        `imported ${modelJson} as '${imported.project.name}' (${layers} nodes, ${imported.weights.size} weight tensors) into ${opts.out}\n`,
      );
      for (const note of imported.notes) process.stdout.write(`note: ${note}\n`);
    });
}
