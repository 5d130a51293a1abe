/**
 * What a preset is, and the helpers that turn the course's nn.Sequential-style
 * definitions into project documents.
 */
import {
  PROJECT_FORMAT,
  PROJECT_VERSION,
  type Project,
  type ProjectBlock,
  type ProjectInput,
  projectSchema,
} from '../document/schema';
import { idStemOf, type LayerType } from '../layers/registry';
import type { TrainingConfig } from '../training/options';

/** Where a preset's network is defined, with what the course trains it with. */
export interface Preset {
  /** The command-line name (`convnet-studio summary resnet18`). */
  name: string;
  title: string;
  /** One line. */
  description: string;
  /** Default input C×H×W (after the training pipeline's resize). */
  input: [number, number, number];
  training: Pick<TrainingConfig, 'epochs' | 'batchSize' | 'lr' | 'optimizer'> &
    Partial<TrainingConfig>;
  build(): Project;
}

/** A layer in a sequence: its type, parameters, and an id when the automatic one won't do. */
export type LayerSpec = [type: LayerType, params?: Record<string, unknown>, id?: string];

export const INPUT_ID = 'input';

/**
 * A chain of layers after an Input node. `ids: 'index'` numbers them 0, 1, 2, …
 * as nn.Sequential names its children; 'readable' uses the type's stem, with a
 * number when the stem occurs more than once.
 */
export function sequence(
  layers: LayerSpec[],
  ids: 'readable' | 'index',
  input: Record<string, unknown> = {},
): Pick<ProjectBlock, 'nodes' | 'edges'> {
  // Each type's own stem, so presets read conv1, bn1, relu1, pool1, fc1, …
  const stems = layers.map(([type, params]) => idStemOf(type, params));
  const total = new Map<string, number>();
  for (const stem of stems) total.set(stem, (total.get(stem) ?? 0) + 1);
  const seen = new Map<string, number>();
  const nodes: ProjectBlock['nodes'] = [{ id: INPUT_ID, type: 'Input', params: input }];
  const edges: ProjectBlock['edges'] = [];
  layers.forEach(([type, params = {}, explicitId], index) => {
    const stem = stems[index];
    const count = (seen.get(stem) ?? 0) + 1;
    seen.set(stem, count);
    const automatic =
      ids === 'index' ? String(index) : total.get(stem)! > 1 ? `${stem}${count}` : stem;
    const id = explicitId ?? automatic;
    edges.push({ source: nodes[nodes.length - 1].id, target: id });
    nodes.push({ id, type, params });
  });
  return { nodes, edges };
}

/** A user block (shown as one row, like the course's nn.Sequential stages) made of a chain of layers. */
export function sequentialBlock(label: string, layers: LayerSpec[]): ProjectBlock {
  return { label, ...sequence(layers, 'index') };
}

/** Stands for a user block by name at the top level. */
export function blockRef(name: string): LayerSpec {
  return ['Block', { block: name }, name];
}

export interface PresetDefinition extends Omit<Preset, 'build'> {
  layers: LayerSpec[];
  blocks?: Record<string, ProjectBlock>;
}

export function definePreset(def: PresetDefinition): Preset {
  const { layers, blocks, ...info } = def;
  return {
    ...info,
    build(): Project {
      const [channels, height, width] = def.input;
      const document: ProjectInput = {
        format: PROJECT_FORMAT,
        version: PROJECT_VERSION,
        name: def.title,
        description: def.description,
        ...sequence(layers, 'readable', { channels, height, width }),
        blocks: blocks ?? {},
        training: {
          // Fashion-MNIST is 28×28; larger inputs come from the pipeline's resize, as in the course.
          ...(height === 28 && width === 28 ? {} : { resize: [height, width] as [number, number] }),
          ...def.training,
        },
      };
      return projectSchema.parse(document);
    },
  };
}

/** The course's training set-up: SGD, batch 128, 10 epochs. */
export function courseTraining(lr: number): Preset['training'] {
  return { epochs: 10, batchSize: 128, lr, optimizer: 'sgd' };
}
