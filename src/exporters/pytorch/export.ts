/**
 * PyTorch export: a small Python package folder in the course's style.
 * model.py builds the network from nn.Sequential and one class per kind of
 * block (Residual, Inception, …), with module names equal to the studio's
 * node ids, so its state_dict keys are exactly the studio's weight keys;
 * weights.safetensors holds the weights; train.py trains it on Fashion-MNIST,
 * alone or under torchrun with DistributedDataParallel.
 */
import type { ProjectEdge } from '../../core/document/schema';
import type { NodeInfo, PrimitiveNode, PrimitiveNodeOf } from '../../core/infer';
import { displayNameOf } from '../../core/layers/registry';
import { sides } from '../../core/layers/structure';
import type { Pair } from '../../core/shape';
import { defaultTrainOptions } from '../../core/training/options';
import { encodeSafetensors, type TensorMap } from '../../core/weights/safetensors';
import {
  type EmitterTable,
  type ExportBundle,
  ExportError,
  type ExportInput,
  emit,
  stateKey,
  weightOf,
} from '../common';
import { pythonDocstringText } from '../text-escapes';
import { pythonReadme, pythonTrainScript, pythonWeightsIo } from './python-files';

/** The project inside a PyTorch package: weights trained in PyTorch come back to the studio with it. */
export const PACKAGE_PROJECT_FILE = 'project.json';

/** Attributes every nn.Module (or nn.Sequential) already has: add_module refuses them as names. */
const MODULE_ATTRIBUTES = new Set(
  'training forward eval train to cuda cpu xpu ipu type float double half bfloat16 state_dict load_state_dict parameters named_parameters buffers named_buffers children named_children modules named_modules apply zero_grad share_memory requires_grad_ add_module register_module register_buffer register_parameter get_submodule get_parameter get_buffer extra_repr dump_patches call_super_init append extend insert pop'.split(
    ' ',
  ),
);
const PYTHON_RESERVED = new Set(
  'False None True and as assert async await break class continue def del elif else except finally for from global if import in is lambda nonlocal not or pass raise return try while with yield x self torch nn'.split(
    ' ',
  ),
);

const pyPair = ([a, b]: Pair) => (a === b ? String(a) : `(${a}, ${b})`);
const pyString = (s: string) => JSON.stringify(s);

/** nn.BatchNorm1d or nn.BatchNorm2d, as the node's type says. */
function batchNorm(node: PrimitiveNodeOf<'BatchNorm1d' | 'BatchNorm2d'>): string {
  const args = [String(node.inputShapes[0][1])];
  if (node.params.eps !== 1e-5) args.push(`eps=${String(node.params.eps)}`);
  if (node.params.momentum !== 0.1) args.push(`momentum=${String(node.params.momentum)}`);
  return `nn.${node.type}(${args.join(', ')})`;
}

/**
 * The nn constructor call of each primitive layer, or null where forward
 * writes it inline (the input x, merges).
 */
const layerWriters: EmitterTable<undefined, string | null> = {
  Input: () => null,
  Conv2d(node) {
    const p = node.params;
    const args = [
      String(node.inputShapes[0][1]),
      String(p.out_channels),
      `kernel_size=${pyPair(p.kernel_size)}`,
    ];
    if (p.stride[0] !== 1 || p.stride[1] !== 1) args.push(`stride=${pyPair(p.stride)}`);
    if (typeof p.padding === 'string') args.push(`padding=${pyString(p.padding)}`);
    else if (p.padding[0] !== 0 || p.padding[1] !== 0) args.push(`padding=${pyPair(p.padding)}`);
    if (p.dilation[0] !== 1 || p.dilation[1] !== 1) args.push(`dilation=${pyPair(p.dilation)}`);
    if (p.groups !== 1) args.push(`groups=${p.groups}`);
    if (!p.bias) args.push('bias=False');
    return `nn.Conv2d(${args.join(', ')})`;
  },
  MaxPool2d: pool,
  AvgPool2d: pool,
  AdaptiveAvgPool2d: (node) => `nn.AdaptiveAvgPool2d(${pyPair(node.params.output_size)})`,
  BatchNorm1d: batchNorm,
  BatchNorm2d: batchNorm,
  Linear(node) {
    const args = [String(node.inputShapes[0][1]), String(node.params.out_features)];
    if (!node.params.bias) args.push('bias=False');
    return `nn.Linear(${args.join(', ')})`;
  },
  ReLU: () => 'nn.ReLU()',
  ReLU6: () => 'nn.ReLU6()',
  Sigmoid: () => 'nn.Sigmoid()',
  Tanh: () => 'nn.Tanh()',
  LeakyReLU: (node) => `nn.LeakyReLU(${String(node.params.negative_slope)})`,
  GELU: (node) =>
    node.params.approximate === 'tanh' ? "nn.GELU(approximate='tanh')" : 'nn.GELU()',
  Softmax: () => 'nn.Softmax(dim=1)',
  Flatten: () => 'nn.Flatten()',
  ZeroPad2d: (node) => `nn.ZeroPad2d((${sides(node.params.padding).join(', ')}))`,
  Dropout: (node) => `nn.Dropout(${String(node.params.p)})`,
  Dropout2d: (node) => `nn.Dropout2d(${String(node.params.p)})`,
  Add: () => null,
  Concat: () => null,
};

/**
 * The nn module a primitive becomes in model.py ('nn.Conv2d(3, 6, kernel_size=5)'),
 * or null where forward writes it inline (the input, Add, Concat). The PyTorch
 * parity tests build their modules from it, so they check what the export writes.
 */
export function torchModuleOf(node: PrimitiveNode): string | null {
  return emit(layerWriters, node, undefined);
}

function pool(node: PrimitiveNodeOf<'MaxPool2d' | 'AvgPool2d'>): string {
  const p = node.params;
  const args = [pyPair(p.kernel_size)];
  if (p.stride) args.push(`stride=${pyPair(p.stride)}`);
  if (p.padding[0] !== 0 || p.padding[1] !== 0) args.push(`padding=${pyPair(p.padding)}`);
  if (p.ceil_mode) args.push('ceil_mode=True');
  return `nn.${node.type}(${args.join(', ')})`;
}

/** One graph level: the top graph or a block's inside. */
interface Level {
  /** Path id prefix of its nodes ('' at the top, 'stage2/0/' inside a block). */
  prefix: string;
  nodes: NodeInfo[];
  edges: ProjectEdge[];
}

interface BlockClass {
  name: string;
  blockType: string;
  signature: string;
  /** Its nodes' local ids, to name variants by what they add. */
  ids: string[];
  code: string;
}

class PythonWriter {
  readonly classes: BlockClass[] = [];
  private readonly primitives: Map<string, PrimitiveNode>;

  constructor(readonly input: ExportInput) {
    this.primitives = new Map(input.inference.primitives.map((p) => [p.id, p]));
  }

  /** The Python expression that builds a level's module. */
  levelExpression(level: Level, blockType: string | null, indent: string): string {
    const layers = level.nodes.filter((n) => n.type !== 'Input');
    for (const n of layers) checkModuleName(n.id, level.prefix);
    const inner = `${indent}    `;
    if (isChain(level)) {
      const items = layers.map(
        (n) => `${inner}(${pyString(localId(n, level))}, ${this.moduleExpression(n, inner)}),`,
      );
      return `nn.Sequential(OrderedDict([\n${items.join('\n')}\n${indent}]))`;
    }
    const className = this.blockClass(level, blockType);
    const modules = layers
      .map((n) => [n, this.moduleExpression(n, inner)] as const)
      .filter(([, expr]) => expr !== null)
      .map(([n, expr]) => `${inner}${pyString(localId(n, level))}: ${expr},`);
    return `${className}({\n${modules.join('\n')}\n${indent}})`;
  }

  /** A node's module: a layer constructor, a block's module, or null for an inline merge. */
  private moduleExpression(node: NodeInfo, indent: string): string | null {
    if (node.children) {
      return this.levelExpression(this.blockLevel(node), blockTypeName(node), indent);
    }
    return torchModuleOf(this.primitives.get(node.id)!);
  }

  blockLevel(node: NodeInfo): Level {
    return { prefix: `${node.id}/`, nodes: node.children!, edges: node.childEdges! };
  }

  /** The class for a block level (one per block type and inner topology), defined once. */
  private blockClass(level: Level, blockType: string | null): string {
    const base = blockType ?? 'Net';
    const signature = JSON.stringify({
      nodes: level.nodes.map((n) => [localId(n, level), n.children ? 'block' : n.type]),
      edges: level.edges,
    });
    const known = this.classes.find((c) => c.blockType === base && c.signature === signature);
    if (known) return known.name;
    const ids = level.nodes.map((n) => localId(n, level));
    const first = this.classes.find((c) => c.blockType === base);
    const name = first ? this.variantName(base, ids, first.ids) : base;
    this.classes.push({
      name,
      blockType: base,
      signature,
      ids,
      code: forwardClass(name, base, level, !!first),
    });
    return name;
  }

  /** A variant named by what it adds (ResidualWithConv3), else numbered. */
  private variantName(base: string, ids: string[], firstIds: string[]): string {
    const extra = ids.filter((id) => !firstIds.includes(id));
    const taken = (name: string) => this.classes.some((c) => c.name === name);
    const described =
      extra.length > 0 && extra.length <= 2
        ? `${base}With${extra.map(pascalCase).join('And')}`
        : '';
    if (described && !taken(described)) return described;
    let n = 2;
    while (taken(`${base}_${n}`)) n++;
    return `${base}_${n}`;
  }
}

function localId(node: NodeInfo, level: Level): string {
  return node.id.slice(level.prefix.length);
}

/** A chain: each layer takes exactly the one before it, so nn.Sequential runs it as is. */
function isChain(level: Level): boolean {
  const ids = level.nodes.map((n) => localId(n, level));
  if (level.nodes[0]?.type !== 'Input') return false;
  for (let i = 1; i < ids.length; i++) {
    const incoming = level.edges.filter((e) => e.target === ids[i]);
    if (incoming.length !== 1 || incoming[0].source !== ids[i - 1]) return false;
  }
  return level.edges.length === ids.length - 1;
}

function checkModuleName(nodeId: string, prefix: string): void {
  const name = nodeId.slice(prefix.length);
  if (MODULE_ATTRIBUTES.has(name)) {
    throw new ExportError(
      'pytorch',
      nodeId,
      `the id '${name}' is also an attribute of every nn.Module, so PyTorch cannot use it as a layer name; rename the node`,
    );
  }
}

function pascalCase(name: string): string {
  return name
    .split(/[^A-Za-z0-9]+/)
    .filter(Boolean)
    .map((w) => w[0].toUpperCase() + w.slice(1))
    .join('');
}

/** A block's class name: its type, or a user block's name in PascalCase. */
function blockTypeName(node: NodeInfo): string {
  const name = displayNameOf(node.type, node.params);
  if (name === node.type) return name;
  const pascal = pascalCase(name);
  return /^[A-Za-z]/.test(pascal) ? pascal : `Block${pascal}`;
}

/** A Graph subclass whose forward is the level's dataflow written out line by line. */
function forwardClass(name: string, base: string, level: Level, variant: boolean): string {
  const variables = new Map<string, string>();
  const used = new Set<string>();
  for (const node of level.nodes) {
    const id = localId(node, level);
    if (node.type === 'Input') {
      variables.set(id, 'x');
      continue;
    }
    let variable =
      /^[A-Za-z_][A-Za-z0-9_]*$/.test(id) && !PYTHON_RESERVED.has(id)
        ? id
        : `v_${id.replace(/-/g, '_')}`;
    while (used.has(variable)) variable += '_';
    used.add(variable);
    variables.set(id, variable);
  }
  const lines: string[] = [];
  let last = 'x';
  for (const node of level.nodes) {
    const id = localId(node, level);
    if (node.type === 'Input') continue;
    const inputs = level.edges.filter((e) => e.target === id).map((e) => variables.get(e.source)!);
    const out = variables.get(id)!;
    const module =
      /^[A-Za-z_][A-Za-z0-9_]*$/.test(id) && !PYTHON_RESERVED.has(id)
        ? `self.${id}`
        : `getattr(self, ${pyString(id)})`;
    if (node.type === 'Add') lines.push(`${out} = ${inputs.join(' + ')}`);
    else if (node.type === 'Concat')
      lines.push(`${out} = torch.cat([${inputs.join(', ')}], dim=1)`);
    else lines.push(`${out} = ${module}(${inputs[0]})`);
    last = out;
  }
  const what =
    name === 'Net'
      ? 'The network'
      : `${variant ? 'A variant of the ' : 'The '}${base}${base.endsWith('Block') ? '' : ' block'} as the studio expands it`;
  return `class ${name}(Graph):
    """${what}: ${describeFlow(level)}."""

    def forward(self, x):
${lines.map((l) => `        ${l}`).join('\n')}
        return ${last}
`;
}

function describeFlow(level: Level): string {
  const names = level.nodes.filter((n) => n.type !== 'Input').map((n) => localId(n, level));
  return names.join(', ');
}

export function modelSource(input: ExportInput): string {
  const { project, inference } = input;
  const writer = new PythonWriter(input);
  const top: Level = { prefix: '', nodes: inference.nodes, edges: project.edges };
  const body = writer.levelExpression(top, null, '    ');
  const [, c, h, w] = inference.inputShape!;
  const classes = writer.classes.map((c) => c.code).join('\n\n');
  return `"""${pythonDocstringText(project.name)}, exported from ConvNet Studio.

build_model() returns the network; load_model() also loads weights.safetensors.
Module names are the studio's node ids, so state_dict keys equal the studio's
weight keys (e.g. ${pyString([...input.weights.keys()][0] ?? 'conv1.weight')}).
Input: N x ${c} x ${h} x ${w} (NCHW), pixels in [0, 1]. Output: N x ${inference.outputShape!.slice(1).join(' x ')}.
"""
from collections import OrderedDict
from pathlib import Path

import torch
from torch import nn

try:
    from .weights_io import load_safetensors
except ImportError:  # run from this folder (python3 train.py), not imported as a package
    from weights_io import load_safetensors

INPUT_SHAPE = (${c}, ${h}, ${w})
WEIGHTS = Path(__file__).with_name("weights.safetensors")


class Graph(nn.Module):
    """Named layers (the studio's node ids) whose forward a subclass writes out."""

    def __init__(self, layers):
        super().__init__()
        for name, layer in layers.items():
            self.add_module(name, layer)
${classes ? `\n\n${classes}` : ''}

def build_model():
    return ${body}


def load_model(path=WEIGHTS):
    """The network with the exported (or trained) weights, in eval mode."""
    model = build_model()
    result = model.load_state_dict(load_safetensors(path), strict=False)
    # BatchNorm's num_batches_tracked counter is not part of the studio's weights.
    missing = [k for k in result.missing_keys if not k.endswith("num_batches_tracked")]
    if missing or result.unexpected_keys:
        raise ValueError(f"{path} does not fit this model: missing {missing}, unexpected {result.unexpected_keys}")
    return model.eval()
`;
}

/** The weights in primitive order, as the state_dict lists them. */
function orderedWeights(input: ExportInput): TensorMap {
  const ordered: TensorMap = new Map();
  for (const node of input.inference.primitives) {
    for (const spec of node.weights) {
      ordered.set(`${stateKey(node.id)}.${spec.name}`, weightOf('pytorch', input, node, spec.name));
    }
  }
  return ordered;
}

export function exportPytorch(input: ExportInput): ExportBundle {
  const model = modelSource(input);
  const weights = orderedWeights(input);
  const training = { ...defaultTrainOptions, ...input.project.training };
  return {
    format: 'pytorch',
    files: [
      {
        path: 'model.py',
        contents: model,
        description: 'the network as nn.Sequential and block classes',
      },
      {
        path: 'weights.safetensors',
        contents: encodeSafetensors(weights, { format: 'pt', producer: 'ConvNet Studio' }),
        description: `${weights.size} tensors by state_dict key`,
      },
      {
        path: 'weights_io.py',
        contents: pythonWeightsIo,
        description: 'reads/writes safetensors (uses the safetensors library when installed)',
      },
      {
        path: 'train.py',
        contents: pythonTrainScript({
          epochs: training.epochs,
          batchSize: training.batchSize,
          lr: training.lr,
          optimizer: training.optimizer,
          momentum: training.momentum,
          weightDecay: training.weightDecay,
          schedule: training.schedule,
          stepSize: training.stepSize,
          gamma: training.gamma,
          etaMin: training.etaMin,
          cropPadding: training.cropPadding,
          flip: training.flip,
        }),
        description: 'trains on Fashion-MNIST; also under torchrun (DistributedDataParallel)',
      },
      { path: '__init__.py', contents: '', description: 'makes the folder importable' },
      {
        path: PACKAGE_PROJECT_FILE,
        contents: `${JSON.stringify(input.project, null, 2)}\n`,
        description: 'the studio project, so `convnet-studio import` takes trained weights back',
      },
      { path: 'README.md', contents: pythonReadme(input), description: 'How to use it' },
    ],
  };
}
