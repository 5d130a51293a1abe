/** The exporters, one per format, and what they need: a valid project and its weights. */

import { compileModel } from '../core/compile/model';
import type { Project } from '../core/document/schema';
import { inferValidGraph } from '../core/infer';
import type { TF } from '../core/layers/types';
import { defaultTrainOptions } from '../core/training/options';
import type { TensorMap } from '../core/weights/safetensors';
import type { ExportBundle, ExportFormat, ExportInput } from './common';
import { exportOnnx } from './onnx/export';
import { exportPytorch } from './pytorch/export';
import { exportTfjs } from './tfjs/export';

export * from './common';

const exporters: Record<ExportFormat, (input: ExportInput) => ExportBundle> = {
  tfjs: exportTfjs,
  onnx: exportOnnx,
  pytorch: exportPytorch,
};

export function isExportFormat(value: string): value is ExportFormat {
  return Object.hasOwn(exporters, value);
}

/** The files of one format (throws ExportError naming the node a format cannot express). */
export function buildExport(format: ExportFormat, input: ExportInput): ExportBundle {
  return exporters[format](input);
}

export interface PreparedExport {
  input: ExportInput;
  /** True when the project had no weights and was freshly initialised. */
  freshWeights: boolean;
}

/**
 * Checks a project (throws ProjectError naming its problems) and pairs it with
 * its weights; without weights it is initialised as training would start
 * (the project's init scheme and seed).
 */
export function prepareExport(tf: TF, project: Project, weights?: TensorMap): PreparedExport {
  const inference = inferValidGraph(project, { batch: 1 });
  if (weights) {
    checkWeights(inference, weights);
    return { input: { project, inference, weights }, freshWeights: false };
  }
  const { init, seed } = { ...defaultTrainOptions, ...project.training };
  const model = compileModel(tf, inference, { init, seed });
  try {
    return { input: { project, inference, weights: model.getWeights() }, freshWeights: true };
  } finally {
    model.dispose();
  }
}

/** Throws naming every weight that is missing, mis-shaped or belongs to no layer. */
export function checkWeights(inference: ExportInput['inference'], weights: TensorMap): void {
  const problems: string[] = [];
  const expected = new Set<string>();
  for (const node of inference.primitives) {
    for (const spec of node.weights) {
      const key = `${node.id.replaceAll('/', '.')}.${spec.name}`;
      expected.add(key);
      const t = weights.get(key);
      if (!t) problems.push(`'${key}' is missing`);
      else if (t.shape.join('×') !== spec.shape.join('×'))
        problems.push(
          `'${key}' is ${t.shape.join('×')} but the project needs ${spec.shape.join('×')}`,
        );
    }
  }
  for (const key of weights.keys())
    if (!expected.has(key)) problems.push(`'${key}' belongs to no layer`);
  if (problems.length > 0) {
    throw new Error(
      `the weights do not fit the project (${problems.slice(0, 5).join('; ')}${problems.length > 5 ? `; and ${problems.length - 5} more` : ''}); were they saved from another version of it?`,
    );
  }
}
