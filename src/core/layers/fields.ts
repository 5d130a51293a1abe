/**
 * Parameter fields: one declaration gives the validation schema (zod), the
 * default, and what the inspector needs to draw an editor for it.
 * Pairs accept a number or [h, w] as PyTorch does and are normalised to [h, w].
 */
import { z } from 'zod';
import type { Pair } from '../shape';

interface FieldBase<T> {
  /** Shown next to the field in the inspector. */
  help: string;
  default: T;
  schema: z.ZodType<T>;
}

export type IntField = FieldBase<number> & { kind: 'int'; min: number; max?: number };
export type FloatField = FieldBase<number> & { kind: 'float'; min?: number; max?: number };
export type BoolField = FieldBase<boolean> & { kind: 'bool' };
export type EnumField<T extends string = string> = FieldBase<T> & {
  kind: 'enum';
  options: readonly T[];
};
/** `refersTo: 'block'`: the name of one of the project's own blocks (the inspector offers them). */
export type TextField = FieldBase<string> & { kind: 'text'; refersTo?: 'block' };
export type PairField = FieldBase<Pair> & { kind: 'pair'; min: number };
export type OptionalPairField = FieldBase<Pair | null> & { kind: 'optionalPair'; min: number };
export type PaddingField = FieldBase<PaddingValue> & { kind: 'padding' };
export type IntListField = FieldBase<number[]> & { kind: 'intList'; min: number };

export type Field =
  | IntField
  | FloatField
  | BoolField
  | EnumField
  | TextField
  | PairField
  | OptionalPairField
  | PaddingField
  | IntListField;

export type PaddingValue = Pair | 'same' | 'valid';

export function int(opts: { default: number; min?: number; max?: number; help: string }): IntField {
  const min = opts.min ?? 0;
  let schema = z.number().int(`must be a whole number`).min(min, `must be at least ${min}`);
  if (opts.max !== undefined) schema = schema.max(opts.max, `must be at most ${opts.max}`);
  return { kind: 'int', min, max: opts.max, help: opts.help, default: opts.default, schema };
}

export function float(opts: {
  default: number;
  min?: number;
  max?: number;
  help: string;
}): FloatField {
  let schema = z.number().refine(Number.isFinite, 'must be a finite number');
  if (opts.min !== undefined)
    schema = schema.refine((v) => v >= opts.min!, `must be at least ${opts.min}`);
  if (opts.max !== undefined)
    schema = schema.refine((v) => v <= opts.max!, `must be at most ${opts.max}`);
  return {
    kind: 'float',
    min: opts.min,
    max: opts.max,
    help: opts.help,
    default: opts.default,
    schema,
  };
}

export function bool(opts: { default: boolean; help: string }): BoolField {
  return { kind: 'bool', help: opts.help, default: opts.default, schema: z.boolean() };
}

export function choice<const T extends string>(opts: {
  options: readonly T[];
  default: T;
  help: string;
}): EnumField<T> {
  return {
    kind: 'enum',
    options: opts.options,
    help: opts.help,
    default: opts.default,
    schema: z.enum(opts.options as unknown as [T, ...T[]], {
      error: `must be one of ${opts.options.join(', ')}`,
    }) as unknown as z.ZodType<T>,
  };
}

export function text(opts: { default: string; help: string }): TextField {
  return { kind: 'text', help: opts.help, default: opts.default, schema: z.string() };
}

/** The name of one of the project's own blocks. */
export function blockName(opts: { help: string }): TextField {
  return { ...text({ default: '', help: opts.help }), refersTo: 'block' };
}

/** A number or [h, w]; `min` bounds both. */
export function pair(opts: { default: number | Pair; min?: number; help: string }): PairField {
  const min = opts.min ?? 1;
  const one = z.number().int('must be a whole number').min(min, `must be at least ${min}`);
  const schema = z
    .union([one, z.tuple([one, one])], {
      error: `must be a whole number ≥ ${min} or [height, width]`,
    })
    .transform((v): Pair => (typeof v === 'number' ? [v, v] : v));
  const d =
    typeof opts.default === 'number' ? ([opts.default, opts.default] as Pair) : opts.default;
  return {
    kind: 'pair',
    min,
    help: opts.help,
    default: d,
    schema: schema as unknown as z.ZodType<Pair>,
  };
}

/** Like `pair`, but may be left empty (null): pooling's stride, which then equals the kernel size. */
export function optionalPair(opts: { min?: number; help: string }): OptionalPairField {
  const min = opts.min ?? 1;
  const one = z.number().int('must be a whole number').min(min, `must be at least ${min}`);
  const schema = z
    .union([one, z.tuple([one, one]), z.null()], {
      error: `must be a whole number ≥ ${min}, [height, width], or empty`,
    })
    .transform((v): Pair | null => (typeof v === 'number' ? [v, v] : v));
  return {
    kind: 'optionalPair',
    min,
    help: opts.help,
    default: null,
    schema: schema as unknown as z.ZodType<Pair | null>,
  };
}

/** PyTorch Conv2d padding: a number, [h, w], 'same' or 'valid'. */
export function padding(opts: {
  default: number | Pair | 'same' | 'valid';
  help: string;
}): PaddingField {
  const one = z.number().int('must be a whole number').min(0, 'must be at least 0');
  const schema = z
    .union([one, z.tuple([one, one]), z.literal('same'), z.literal('valid')], {
      error: "must be a whole number ≥ 0, [height, width], 'same' or 'valid'",
    })
    .transform((v): PaddingValue => (typeof v === 'number' ? [v, v] : v));
  const d =
    typeof opts.default === 'number' ? ([opts.default, opts.default] as Pair) : opts.default;
  return {
    kind: 'padding',
    help: opts.help,
    default: d,
    schema: schema as unknown as z.ZodType<PaddingValue>,
  };
}

/** A list of whole numbers (e.g. Inception path channels). */
export function intList(opts: { default: number[]; min?: number; help: string }): IntListField {
  const min = opts.min ?? 1;
  const schema = z.array(
    z.number().int('must be whole numbers').min(min, `each must be at least ${min}`),
  );
  return { kind: 'intList', min, help: opts.help, default: opts.default, schema };
}

export type Fields = Record<string, Field>;

/** The parsed parameters a field table describes: each field's value type, defaults filled in. */
export type ParamsOf<F extends Fields> = { [K in keyof F]: F[K]['default'] };

/** The zod object for a field table: every field optional, its default filled in. */
// Built once per field table: inference parses every node's params on every edit.
const schemaCache = new WeakMap<Fields, z.ZodType<Record<string, unknown>>>();

export function schemaOf(fields: Fields): z.ZodType<Record<string, unknown>> {
  const cached = schemaCache.get(fields);
  if (cached) return cached;
  const shape: Record<string, z.ZodType> = {};
  for (const [name, field] of Object.entries(fields)) {
    shape[name] = (field.schema as z.ZodType)
      .optional()
      .transform((v) => (v === undefined ? field.default : v));
  }
  const schema = z.strictObject(shape) as unknown as z.ZodType<Record<string, unknown>>;
  schemaCache.set(fields, schema);
  return schema;
}

export function defaultsOf(fields: Fields): Record<string, unknown> {
  return Object.fromEntries(Object.entries(fields).map(([k, f]) => [k, f.default]));
}
