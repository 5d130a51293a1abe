/**
 * Walks the layer catalog through everything a layer type must reach: the
 * PyTorch parity cases, the export fixtures' layer zoo (which every exporter's
 * runtime test runs), every exporter, and the importers (each type exported
 * to TF.js or ONNX and read back gives the same outputs, as that type again). The compiler already refuses an exporter
 * or importer table without an entry for a type; this test catches a type
 * that is missing from the tests themselves, or whose entries do not agree.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { compileModel } from '../../src/core/compile/model';
import type { Project } from '../../src/core/document/schema';
import { type inferGraph, inferValidGraph } from '../../src/core/infer';
import {
  type BlockType,
  getLayerDef,
  layerTypes,
  type PrimitiveType,
  primitiveTypes,
} from '../../src/core/layers/registry';
import { presets } from '../../src/core/presets/index';
import type { TensorMap } from '../../src/core/weights/safetensors';
import type { ExportInput } from '../../src/exporters/common';
import { buildExport, ExportError, exportFormats } from '../../src/exporters/index';
import { buildOnnxModel } from '../../src/exporters/onnx/export';
import { importOnnxModel } from '../../src/exporters/onnx/import';
import { buildTfjsModel } from '../../src/exporters/tfjs/export';
import { importTfjsModel } from '../../src/exporters/tfjs/import';
import { layerCases } from '../parity/layer-cases';
import { cpuTf } from '../support/tfjs-cpu';
import { layerZoo, random, randomWeights, relativeError } from './fixtures';

const computing = primitiveTypes().filter((t) => t !== 'Input');
const blockTypes = layerTypes().filter((t) => getLayerDef(t)?.kind === 'block') as BlockType[];

/** The primitive types a graph (blocks expanded) uses. */
function typesIn(graph: Parameters<typeof inferGraph>[0]): Set<string> {
  return new Set(inferValidGraph(graph).primitives.map((p) => p.type));
}

/** One parity case's graph per type: the first case that uses it. */
function caseOf(type: PrimitiveType) {
  return layerCases.find((c) => typesIn(c.graph).has(type));
}

/**
 * The graph with a LeakyReLU after its output (one-to-one, so outputs still
 * tell any difference): an import removes a final Softmax (training takes
 * logits), and the walk must read every type back, Softmax included.
 */
function withTrailingLayer(graph: Parameters<typeof inferGraph>[0]) {
  const sink = graph.nodes.find((n) => !graph.edges.some((e) => e.source === n.id))!;
  return {
    nodes: [...graph.nodes, { id: 'last', type: 'LeakyReLU', params: { negative_slope: 0.5 } }],
    edges: [...graph.edges, { source: sink.id, target: 'last' }],
  };
}

function asProject(graph: Parameters<typeof inferGraph>[0], name: string): Project {
  return {
    format: 'convnet-studio',
    version: 1,
    name,
    blocks: {},
    nodes: graph.nodes.map((n) => ({ ...n, params: n.params ?? {} })),
    edges: graph.edges,
  };
}

/** Each importer reading back what its format's exporter wrote (without the stored project). */
const readers: [string, (input: ExportInput) => { project: Project; weights: TensorMap }][] = [
  [
    'TF.js',
    (input) => {
      const { modelJson, weightsBin } = buildTfjsModel(input);
      delete modelJson.userDefinedMetadata;
      return importTfjsModel(modelJson, weightsBin);
    },
  ],
  ['ONNX', (input) => importOnnxModel(buildOnnxModel(input))],
];
/** Identities at inference, for which the ONNX export writes no node. */
const noOnnxNode = new Set(['Dropout', 'Dropout2d']);

describe('every layer type of the catalog', () => {
  it('has a PyTorch parity case (test/parity/layer-cases.ts)', () => {
    expect(computing.filter((type) => !caseOf(type))).toEqual([]);
  });

  it('is in the export fixtures’ layer zoo, which every exporter runs in its runtime', () => {
    const zoo = typesIn(layerZoo());
    expect(computing.filter((type) => !zoo.has(type))).toEqual([]);
  });

  it('is described in docs/layers.md (a heading or a table row of its own)', () => {
    const docs = readFileSync(new URL('../../docs/layers.md', import.meta.url), 'utf8');
    const described = (type: string) =>
      new RegExp(`^(###[^\\n]*\\b${type}\\b|\\| \`${type}\`)`, 'm').test(docs);
    expect(computing.filter((type) => !described(type))).toEqual([]);
  });

  it('is a block some preset uses (their outputs are compared with the course’s PyTorch models)', () => {
    const used = new Set(
      presets.flatMap((p) => {
        const project = p.build();
        return [...project.nodes, ...Object.values(project.blocks).flatMap((b) => b.nodes)].map(
          (n) => n.type,
        );
      }),
    );
    expect(blockTypes.filter((type) => !used.has(type))).toEqual([]);
  });

  it.each(computing)('%s exports to every format (or is refused, naming the node)', (type) => {
    const c = caseOf(type)!;
    const project = asProject(c.graph, c.name);
    const inference = inferValidGraph(project, { batch: 1 });
    const input = { project, inference, weights: randomWeights(inference) };
    for (const format of exportFormats) {
      try {
        expect(buildExport(format, input).files.length, format).toBeGreaterThan(0);
      } catch (err) {
        // A refusal must be an ExportError that names the node and says why.
        expect(err, `${format}: ${(err as Error).message}`).toBeInstanceOf(ExportError);
      }
    }
  });

  describe.each(readers)('exported to %s and read back', (format, readBack) => {
    it.each(computing)('%s gives the same outputs, as the same type', async (type) => {
      const cases = layerCases.filter((c) => typesIn(c.graph).has(type) && !c.training);
      const typesRead = new Set<string>();
      for (const c of cases) {
        const project = asProject(withTrailingLayer(c.graph), c.name);
        const inference = inferValidGraph(project, { batch: 1 });
        const weights = randomWeights(inference);
        let imported: ReturnType<typeof readBack>;
        try {
          imported = readBack({ project, inference, weights });
        } catch (err) {
          if (err instanceof ExportError) continue; // a refusal the export test above checks
          throw err;
        }
        for (const t of typesIn(imported.project)) typesRead.add(t);
        const x = sample(c.input);
        const error = relativeError(
          await outputOf(imported.project, imported.weights, x, c.input),
          await outputOf(project, weights, x, c.input),
        );
        expect(error, c.name).toBeLessThan(1e-5);
      }
      if (!(format === 'ONNX' && noOnnxNode.has(type))) expect(typesRead).toContain(type);
    });
  });
});

function sample(shape: number[]): Float32Array {
  const next = random(3);
  return Float32Array.from({ length: shape.reduce((a, b) => a * b, 1) }, () => next() * 2 - 1);
}

/** The studio's output for an NCHW batch (in tfjs's layout: only compared with itself). */
async function outputOf(project: Project, weights: TensorMap, x: Float32Array, shape: number[]) {
  const tf = await cpuTf();
  const model = compileModel(tf, inferValidGraph(project, { inputShape: shape }), { weights });
  try {
    return tf.tidy(() => {
      const nhwc = tf.transpose(
        tf.tensor4d(x, shape as [number, number, number, number]),
        [0, 2, 3, 1],
      );
      return model.forward(nhwc as import('@tensorflow/tfjs-core').Tensor4D, false).dataSync();
    });
  } finally {
    model.dispose();
  }
}
