/**
 * `convnet-studio import <model> --out DIR`: a model file (TF.js Layers, ONNX)
 * as a project with its weights, or weights trained in PyTorch back into a run.
 */
import { existsSync, statSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import type { Command } from 'commander';
import { writeImportedRun } from '../../backend/imported-run';
import { type ImportedModel, OutputChoiceError } from '../../exporters/import-graph';
import {
  RUN_PROJECT_FILE,
  RUN_WEIGHTS_FILE,
  readModelFile,
  readPytorchWeights,
  writeProjectWithWeights,
} from '../../exporters/node-io';
import { WouldReplaceUserFiles } from '../../node/owned-files';
import { CliError } from '../errors';

interface ImportOptions {
  out: string;
  output?: string;
  project?: string;
  force?: boolean;
}

export function registerImport(program: Command): void {
  program
    .command('import')
    .description(
      'Open a model (TensorFlow.js Layers, ONNX) as a project with its weights, or bring weights trained in PyTorch back as a run',
    )
    .argument(
      '<model>',
      'a TF.js Layers model.json (its weight files beside it), an ONNX model (.onnx), or a .safetensors file (or folder) of a PyTorch package the studio exported',
    )
    .requiredOption(
      '--out <dir>',
      `folder for ${RUN_PROJECT_FILE} and ${RUN_WEIGHTS_FILE} (what \`export\`, \`train\` and the studio read)`,
    )
    .option(
      '--output <name>',
      'for a model with several outputs: the one the network keeps (a layer name, or an ONNX output)',
    )
    .option(
      '--project <file>',
      `for .safetensors weights: the project they belong to (default: the package's ${RUN_PROJECT_FILE} beside them)`,
    )
    .option('--force', 'replace files in --out that the studio did not write')
    .addHelpText(
      'after',
      `
Models: the studio's own exports come back as they were. Other TF.js Layers
models (Sequential, functional, nested as Teachable Machine writes them) and
ONNX models (opset 9 and later, as torch.onnx.export writes them) are rebuilt
layer by layer with their weights; what the studio has no layer for is an
error naming the layer (or ONNX node) and why. Always with a note: a final
Softmax is removed (training applies cross-entropy to logits, as PyTorch's
CrossEntropyLoss), so the network outputs logits; a model with several
outputs keeps the one --output names (without it, the command lists them).

PyTorch round trip: export a PyTorch package, train it further in PyTorch
(its train.py saves trained.safetensors; any state_dict saved as safetensors
with the package's module names works), then import the .safetensors: the
weights are checked against the package's project (every key, shape and
value) and become a run of it: a new run folder (--out, or --out-2 when that
exists) with run.json, project.json and weights.safetensors, which the
studio's Runs list, evaluation and export read. (In the studio, the export
dialog's import field takes the same files: see docs/export.md.)

Examples:
  $ npx convnet-studio import exports/lenet-tfjs/model.json --out imported/lenet
  $ npx convnet-studio import resnet18.onnx --out imported/resnet18
  $ npx convnet-studio import detector/model.json --output classes --out imported/detector

  $ npx convnet-studio export lenet --format pytorch --out exports/lenet-py
  $ (cd exports/lenet-py && python3 train.py --epochs 2 --out trained.safetensors)
  $ npx convnet-studio import exports/lenet-py/trained.safetensors --out runs/lenet-pytorch
  $ npx convnet-studio export runs/lenet-pytorch --format onnx --out exports/lenet-onnx`,
    )
    .action(async (model: string, opts: ImportOptions) => {
      let imported: ImportedModel;
      try {
        imported = read(model, opts);
      } catch (err) {
        if (err instanceof OutputChoiceError) {
          throw new CliError(
            `${model} has ${err.outputs.length} outputs (${err.outputs.join(', ')}) and a studio network has one: run again with --output NAME, e.g. --output ${err.outputs[0]}`,
          );
        }
        throw new CliError((err as Error).message);
      }
      let out = opts.out;
      try {
        if (isPytorchWeights(model)) out = await writeRun(opts.out, imported);
        else {
          writeProjectWithWeights(out, imported.project, imported.weights, {
            force: opts.force === true,
            howToConfirm: 'add --force to replace them',
          });
        }
      } catch (err) {
        if (err instanceof WouldReplaceUserFiles) throw new CliError(err.message);
        throw err;
      }
      const layers = imported.project.nodes.length;
      process.stdout.write(
        `imported ${model} as '${imported.project.name}' (${layers} nodes, ${imported.weights.size} weight tensors) into ${out}\n`,
      );
      for (const note of imported.notes) process.stdout.write(`note: ${note}\n`);
    });
}

const isPytorchWeights = (model: string) =>
  model.endsWith('.safetensors') || (existsSync(model) && statSync(model).isDirectory());

/** Weights trained in PyTorch become a new run folder: --out, or out-2 when that exists. */
async function writeRun(out: string, imported: ImportedModel): Promise<string> {
  const dir = await writeImportedRun(dirname(resolve(out)), basename(out), imported);
  return dir === resolve(out) ? out : dir;
}

function read(model: string, opts: ImportOptions): ImportedModel {
  if (model.endsWith('.safetensors')) return readPytorchWeights(model, opts.project);
  if (existsSync(model) && statSync(model).isDirectory()) {
    const weights = join(model, RUN_WEIGHTS_FILE);
    if (!existsSync(weights)) {
      throw new Error(
        `${model} is a folder without ${RUN_WEIGHTS_FILE}; give a model file, or a PyTorch package folder`,
      );
    }
    return readPytorchWeights(weights, opts.project);
  }
  if (opts.project) throw new Error('--project is for .safetensors weights only');
  return readModelFile(model, { output: opts.output });
}
