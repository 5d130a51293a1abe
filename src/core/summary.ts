/**
 * The layer summary: one row per top-level node (blocks carry their inside as
 * children) with output shape, parameters, multiply-accumulates, receptive
 * field and activation memory, plus totals. The text form reads like the
 * course's `layer_summary` ("Conv2d output shape:	 [1, 6, 28, 28]") with the
 * other numbers in aligned columns.
 */
import type { GraphInference, InferOptions, NodeInfo } from './infer';
import { inferValidGraph } from './infer';
import type { Pair, Shape } from './shape';

export interface SummaryRow {
  /** The node's id within its graph ("conv1"; "conv1" inside block "b2/0"). */
  name: string;
  /** Its full path id ("b2/0/conv1"); the weights' state-dict prefix with '/' as '.'. */
  path: string;
  type: string;
  label?: string;
  outputShape: Shape;
  /** Trainable parameters, as PyTorch counts them. */
  params: number;
  /** Multiply-accumulates for the whole batch. */
  macs: number;
  /** Receptive field at the output, in input pixels [h, w]. */
  receptiveField: Pair;
  /** Bytes of float32 activations produced (for blocks: everything inside). */
  memoryBytes: number;
  /** A block's layers (its Input left out). */
  children?: SummaryRow[];
}

export interface ModelSummary {
  inputShape: Shape;
  outputShape: Shape;
  /** Top-level layers in execution order (the Input left out, as the course's summary). */
  layers: SummaryRow[];
  totalParams: number;
  macs: number;
  memoryBytes: number;
}

/** Summarises a project; throws ProjectError (issue by issue, naming nodes) when it has problems. */
export function summarize(
  graph: Parameters<typeof inferValidGraph>[0],
  options: InferOptions = {},
): ModelSummary {
  return summaryOf(inferValidGraph(graph, options));
}

/** The summary of an inference without issues. */
export function summaryOf(inference: GraphInference): ModelSummary {
  if (inference.issues.length > 0 || !inference.inputShape || !inference.outputShape) {
    throw new Error('summaryOf needs an inference without issues; use summarize(project)');
  }
  return {
    inputShape: inference.inputShape,
    outputShape: inference.outputShape,
    layers: rowsOf(inference.nodes),
    totalParams: inference.totals.params,
    macs: inference.totals.macs,
    memoryBytes: inference.totals.memoryBytes,
  };
}

function rowsOf(nodes: NodeInfo[]): SummaryRow[] {
  return nodes.filter((n) => n.type !== 'Input').map(rowOf);
}

function rowOf(node: NodeInfo): SummaryRow {
  const row: SummaryRow = {
    name: node.id.slice(node.id.lastIndexOf('/') + 1),
    path: node.id,
    type: node.type,
    outputShape: node.outputShape!,
    params: node.paramCount,
    macs: node.macs,
    receptiveField: node.receptiveField!,
    memoryBytes: node.memoryBytes,
  };
  if (node.label !== undefined) row.label = node.label;
  if (node.children) row.children = rowsOf(node.children);
  return row;
}

export interface SummaryTextOptions {
  /** Also list every layer inside blocks, indented under the block. */
  expand?: boolean;
}

const INDENT = '  ';

/** An aligned table: name, "Type output shape:" with the shape (as the course prints), params, MACs, receptive field, memory. */
export function formatSummaryText(summary: ModelSummary, options: SummaryTextOptions = {}): string {
  const lines: string[][] = [];
  const visit = (rows: SummaryRow[], depth: number) => {
    for (const row of rows) {
      lines.push([
        INDENT.repeat(depth) + row.name,
        `${row.type} output shape:`,
        formatShapeList(row.outputShape),
        formatInteger(row.params),
        formatCount(row.macs),
        row.receptiveField.join('×'),
        formatBytes(row.memoryBytes),
      ]);
      if (options.expand && row.children) visit(row.children, depth + 1);
    }
  };
  visit(summary.layers, 0);
  const header = ['Name', 'Layer', 'Output', 'Params', 'MACs', 'RF', 'Memory'];
  const table = [header, ...lines];
  // A loop, not Math.max(...rows): a spread of a large project's rows overflows the stack.
  const widths = header.map((_, col) =>
    table.reduce((widest, line) => Math.max(widest, line[col].length), 0),
  );
  // Text columns align left, numbers right.
  const numeric = [false, false, false, true, true, true, true];
  const render = (line: string[]) =>
    line
      .map((cell, col) => (numeric[col] ? cell.padStart(widths[col]) : cell.padEnd(widths[col])))
      .join('  ')
      .trimEnd();
  const rule = '─'.repeat(render(header).length);
  return [
    `Input ${formatShapeList(summary.inputShape)}`,
    render(header),
    rule,
    ...lines.map(render),
    rule,
    `Total params: ${formatInteger(summary.totalParams)}`,
    `MACs: ${formatCount(summary.macs)} (${formatInteger(summary.macs)})`,
    `Activation memory: ${formatBytes(summary.memoryBytes)} (float32, batch ${summary.inputShape[0]})`,
    `Output ${formatShapeList(summary.outputShape)}`,
  ].join('\n');
}

/** [1, 6, 28, 28], as torch.Size prints. */
export function formatShapeList(shape: Shape): string {
  return `[${shape.join(', ')}]`;
}

export function formatInteger(n: number): string {
  return n.toLocaleString('en-US');
}

/** 4,704 → "4,704"; 117,600 → "117.6K"; 4.2e8 → "420.0M". */
export function formatCount(n: number): string {
  const units: [number, string][] = [
    [1e12, 'T'],
    [1e9, 'G'],
    [1e6, 'M'],
    [1e4, 'K'],
  ];
  for (const [scale, unit] of units) {
    if (n >= scale) return `${(n / (unit === 'K' ? 1e3 : scale)).toFixed(1)}${unit}`;
  }
  return formatInteger(n);
}

export function formatBytes(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  const units = ['KiB', 'MiB', 'GiB'];
  let value = bytes / 1024;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return `${value.toFixed(1)} ${units[unit]}`;
}
