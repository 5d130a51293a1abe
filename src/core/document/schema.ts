/**
 * The project file: one versioned JSON document from which everything else is
 * derived (shapes, summary, compiled model, exports, the editor's view).
 * `resources/project.schema.json` is generated from this (npm run schema).
 */
import { z } from 'zod';
import { trainingConfigSchema } from '../training/options';

export const PROJECT_FORMAT = 'convnet-studio';
export const PROJECT_VERSION = 1;

const id = z
  .string()
  .min(1, 'must not be empty')
  .regex(
    /^[A-Za-z0-9_-]+$/,
    'may use letters, digits, _ and - only (it becomes a module name in exports)',
  );

export const nodeSchema = z
  .object({
    id: id.describe('Unique within its graph; also the layer name in summaries and exports.'),
    type: z
      .string()
      .min(1)
      .describe('A layer type of the catalog (Conv2d, MaxPool2d, …) or Block.'),
    params: z
      .record(z.string(), z.unknown())
      .default({})
      .describe('The layer type’s parameters; omitted ones take their defaults.'),
    label: z.string().optional(),
    position: z
      .object({ x: z.number(), y: z.number() })
      .optional()
      .describe('Where the editor draws it.'),
  })
  .strict();

export const edgeSchema = z
  .object({
    source: id,
    target: id,
  })
  .strict()
  .describe(
    'Data flows from source to target. A node with several inputs takes them in the order its edges are listed.',
  );

export const graphSchema = z.object({
  nodes: z.array(nodeSchema),
  edges: z.array(edgeSchema),
});

export const blockSchema = graphSchema
  .extend({
    label: z.string().optional(),
    description: z.string().optional(),
  })
  .strict()
  .describe(
    'A reusable block of the user’s own: its entry is its Input node, its output its only sink.',
  );

export const projectSchema = z
  .object({
    $schema: z.string().optional(),
    format: z.literal(PROJECT_FORMAT),
    version: z
      .number()
      .int()
      .min(1)
      .describe('File format version; older files are migrated on load.'),
    name: z.string().default('Untitled'),
    description: z.string().optional(),
    nodes: z.array(nodeSchema),
    edges: z.array(edgeSchema),
    blocks: z.record(id, blockSchema).default({}),
    training: trainingConfigSchema.optional(),
    ui: z
      .record(z.string(), z.unknown())
      .optional()
      .describe('Editor state (viewport); not part of the model.'),
  })
  .strict();

export type ProjectNode = z.infer<typeof nodeSchema>;
export type ProjectEdge = z.infer<typeof edgeSchema>;
export type ProjectBlock = z.infer<typeof blockSchema>;
export type Project = z.infer<typeof projectSchema>;
export type ProjectInput = z.input<typeof projectSchema>;

export function projectJsonSchema(): unknown {
  return z.toJSONSchema(projectSchema, { io: 'input', target: 'draft-2020-12' });
}
