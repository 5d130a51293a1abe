/**
 * Whether a network can be trained as a classifier of a dataset: it must end
 * in N×classes (one score per class, as cross-entropy takes them). Checked
 * before training starts (the Train button, the command line, the engine) and
 * noted by the export dialog, so a 7-output network never trains on 10-class
 * data without a word.
 */
import type { GraphInference } from './infer';
import type { GraphIssue } from './issues';
import { formatShape } from './shape';

/** The fields that set how many features or channels a layer gives. */
const WIDTH_FIELDS = ['out_features', 'out_channels'] as const;

/**
 * The problem with training `inference` on a dataset of `classes` classes, or
 * null when its output fits. The issue points at the layer whose field fixes
 * it (the last Linear's out_features, or a NiN-style last convolution's
 * out_channels), or at the catalog block that holds it.
 */
export function classifierOutputIssue(
  inference: GraphInference,
  classes: number,
  dataset: string,
): GraphIssue | null {
  const output = inference.outputShape;
  if (!output || inference.issues.length > 0) return null;
  if (output.length === 2 && output[1] === classes) return null;
  const shape = formatShape(output);
  if (output.length !== 2)
    return {
      message: `the network ends in ${shape}, but a classifier of ${dataset}'s ${classes} classes must end in N×${classes}: add Flatten and a Linear with out_features ${classes} at the end`,
    };
  const layer = lastWidthLayer(inference);
  const fix = layer
    ? layer.field
      ? ` (set ${layer.nodeId}'s ${layer.field} to ${classes})`
      : ` (its last layer is inside the block ${layer.nodeId})`
    : '';
  return {
    ...layer,
    message: `the network ends in ${shape} but ${dataset} has ${classes} classes: its last layer must give ${classes} outputs${fix}`,
  };
}

/**
 * The layer nearest the output (back along first inputs) that sets the
 * feature count, as the user can reach it: a layer at the top level or in a
 * block of their own, with its field; or the outermost catalog block around it.
 */
function lastWidthLayer(inference: GraphInference): { nodeId: string; field?: string } | null {
  const byId = new Map(inference.primitives.map((p) => [p.id, p]));
  let at = inference.outputId ? byId.get(inference.outputId) : undefined;
  while (at) {
    const field = WIDTH_FIELDS.find((f) => f in at!.def.fields);
    if (field) return reachable(inference, at.id, field);
    at = at.inputs[0] === undefined ? undefined : byId.get(at.inputs[0]);
  }
  return null;
}

function reachable(
  inference: GraphInference,
  pathId: string,
  field: string,
): { nodeId: string; field?: string } {
  const parts = pathId.split('/');
  for (let depth = 1; depth < parts.length; depth++) {
    const outer = parts.slice(0, depth).join('/');
    if (inference.byId.get(outer)?.type !== 'Block') return { nodeId: outer };
  }
  return { nodeId: pathId, field };
}
