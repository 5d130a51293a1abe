/** `convnet-studio import <model> --out DIR [--output NAME]`: a model file as a project with its weights. */
import type { Command } from 'commander';
import { OutputChoiceError } from '../../exporters/import-graph';
import {
  RUN_PROJECT_FILE,
  RUN_WEIGHTS_FILE,
  readModelFile,
  writeProjectWithWeights,
} from '../../exporters/node-io';
import { WouldReplaceUserFiles } from '../../node/owned-files';
import { CliError } from '../errors';

export function registerImport(program: Command): void {
  program
    .command('import')
    .description('Open a model file (TensorFlow.js Layers) as a project with its weights')
    .argument(
      '<model>',
      'a TF.js Layers model.json (the studio’s export, or one saved by tfjs or Keras; its weight files beside it)',
    )
    .requiredOption(
      '--out <dir>',
      `folder for ${RUN_PROJECT_FILE} and ${RUN_WEIGHTS_FILE} (what \`export\`, \`train\` and the studio read)`,
    )
    .option(
      '--output <name>',
      'for a model with several outputs: the layer whose output the network keeps',
    )
    .option('--force', 'replace files in --out that the studio did not write')
    .addHelpText(
      'after',
      `
What it changes, always with a note: a final Softmax is removed (training
applies cross-entropy to logits, as PyTorch's CrossEntropyLoss), so the
network outputs logits; a model with several outputs keeps the one --output
names (without it, the command lists them); Keras's H,W,C flatten order is
converted to PyTorch's C,H,W. A layer the studio cannot express exactly is
an error naming it.

Examples:
  $ npx convnet-studio import exports/lenet-tfjs/model.json --out imported/lenet
  $ npx convnet-studio import tm-model/model.json --out imported/tm
  $ npx convnet-studio export imported/lenet --format onnx --out exports/lenet-onnx`,
    )
    .action((model: string, opts: { out: string; output?: string; force?: boolean }) => {
      let imported: ReturnType<typeof readModelFile>;
      try {
        imported = readModelFile(model, { output: opts.output });
      } catch (err) {
        if (err instanceof OutputChoiceError) {
          throw new CliError(
            `${model} has ${err.outputs.length} outputs (${err.outputs.join(', ')}) and a studio network has one: run again with --output NAME, e.g. --output ${err.outputs[0]}`,
          );
        }
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
        `imported ${model} as '${imported.project.name}' (${layers} nodes, ${imported.weights.size} weight tensors) into ${opts.out}\n`,
      );
      for (const note of imported.notes) process.stdout.write(`note: ${note}\n`);
    });
}
