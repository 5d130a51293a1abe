/**
 * Training-option fields: one declaration per option gives its type, default,
 * validation (a zod schema with messages a person can act on), where it is
 * read and set (the project file, the API, the Train form, the command line)
 * and what the form and `--help` show. The table itself is in options.ts;
 * this module knows only the kinds of field, as core/layers/fields.ts does
 * for layer parameters.
 */
import { z } from 'zod';

/** The Train form's sections, in order; 'run' options are not drawn. */
export type OptionGroup = 'data' | 'augmentation' | 'hyperparameters' | 'backend' | 'run';

export interface Choice<V extends string = string> {
  value: V;
  /** What the form's select shows. */
  label: string;
}

/** What every kind of option declares. */
interface Spec<V> {
  /** The form's label. */
  label: string;
  /** How messages name it (default: the label, lower case). */
  name?: string;
  /** One line: `--help`, the form's tooltip, the JSON Schema's description. */
  help: string;
  group: OptionGroup;
  /** Without a default the option is optional: absent means "not set" (all images, no resize). */
  default?: V;
  /** Kept in the project file's `training` section (default: no, it is a per-run choice). */
  stored?: boolean;
  /** The UI may set it through StudioApi (default: yes). Options the host decides (the run folder) say no. */
  api?: boolean;
  /**
   * A resumed run must keep it (default: no): it gives meaning to where the
   * run stopped (the batch size to the batch index, the seed to the order).
   */
  keptOnResume?: boolean;
  /** Drawn in the Train form (default: when `api`). */
  form?: boolean;
  /** Drawn only while this holds (a schedule's settings, with that schedule chosen). */
  shownWhen?: (options: Readonly<Record<string, unknown>>) => boolean;
  /** The command-line flag, default `--` and the key in kebab case; false: none. */
  flag?: string | false;
  /** The flag's value in `--help` (`N`, `DIR`). */
  valueName?: string;
  /** What leaving it empty means, in the form ('all', 'no resize'). */
  placeholder?: string;
  /**
   * A rule that involves other options, checked when this one is given:
   * what is wrong, to follow its name ("applies to sgd only; adam uses its own moments").
   */
  check?: (options: Readonly<Record<string, unknown>>) => string | undefined;
}

interface FieldBase<V> {
  label: string;
  name: string;
  help: string;
  group: OptionGroup;
  /** Has a default, so a resolved options object always holds it. */
  required: boolean;
  default: V | undefined;
  stored: boolean;
  api: boolean;
  keptOnResume: boolean;
  form: boolean;
  shownWhen?: Spec<V>['shownWhen'];
  flag: string | false | undefined;
  valueName: string;
  placeholder?: string;
  check?: Spec<V>['check'];
  /** Validates one value; its messages complete "<name> …". */
  schema: z.ZodType<V>;
}

export type IntField = FieldBase<number> & {
  kind: 'int';
  min: number;
  max?: number;
};
export type FloatField = FieldBase<number> & {
  kind: 'float';
  min?: number;
  max?: number;
  /** Bounds excluded: the learning rate is > 0, momentum < 1. */
  minExclusive: boolean;
  maxExclusive: boolean;
  /** The form's arrow step ('any' when absent). */
  step?: number;
};
export type ChoiceField<V extends string = string> = FieldBase<V> & {
  kind: 'choice';
  choices: readonly Choice<V>[];
};
export type SwitchField = FieldBase<boolean> & { kind: 'switch' };
export type TextField = FieldBase<string> & { kind: 'text' };
/** [height, width] in pixels. */
export type SizeField = FieldBase<[number, number]> & {
  kind: 'size';
  min: number;
  max: number;
  /** Square sizes the form offers (the course: 224 for VGG, 96 for ResNet). */
  suggestions: readonly number[];
};

export type OptionField = IntField | FloatField | ChoiceField | SwitchField | TextField | SizeField;

export type OptionTable = Record<string, OptionField>;

/** What the type system must know of a declaration: whether it has a default, whether it is stored. */
type Marks<S> = {
  required: S extends { default: NonNullable<unknown> } ? true : false;
  stored: S extends { stored: true } ? true : false;
};

function base<V>(spec: Spec<V>, schema: z.ZodType<V>, valueName: string): FieldBase<V> {
  const api = spec.api ?? true;
  return {
    label: spec.label,
    name: spec.name ?? spec.label.toLowerCase(),
    help: spec.help,
    group: spec.group,
    required: spec.default !== undefined,
    default: spec.default,
    stored: spec.stored ?? false,
    api,
    keptOnResume: spec.keptOnResume ?? false,
    form: spec.form ?? api,
    shownWhen: spec.shownWhen,
    flag: spec.flag,
    valueName: spec.valueName ?? valueName,
    placeholder: spec.placeholder,
    check: spec.check,
    schema,
  };
}

export function int<const S extends Spec<number> & { min?: number; max?: number }>(
  spec: S,
): IntField & Marks<S> {
  const { min = Number.MIN_SAFE_INTEGER, max } = spec;
  const bounds =
    spec.min === undefined ? '' : max === undefined ? ` ≥ ${min}` : ` from ${min} to ${max}`;
  const message = `must be a whole number${bounds}`;
  let schema = z.number({ error: message }).int(message).min(min, message);
  schema = schema.max(max ?? Number.MAX_SAFE_INTEGER, message);
  return { ...base(spec, schema, 'N'), kind: 'int', min, max } as IntField & Marks<S>;
}

export function float<
  const S extends Spec<number> & {
    min?: number;
    max?: number;
    minExclusive?: boolean;
    maxExclusive?: boolean;
    step?: number;
  },
>(spec: S): FloatField & Marks<S> {
  const { min, max, minExclusive = false, maxExclusive = false } = spec;
  const bounds = [
    min === undefined ? '' : `${minExclusive ? '>' : '≥'} ${min}`,
    max === undefined ? '' : `${maxExclusive ? '<' : '≤'} ${max}`,
  ].filter(Boolean);
  const message = `must be a number${bounds.length ? ` ${bounds.join(' and ')}` : ''}`;
  // zod numbers are finite: NaN and Infinity are refused too.
  let schema = z.number({ error: message });
  if (min !== undefined) schema = minExclusive ? schema.gt(min, message) : schema.min(min, message);
  if (max !== undefined) schema = maxExclusive ? schema.lt(max, message) : schema.max(max, message);
  return {
    ...base(spec, schema, 'X'),
    kind: 'float',
    min,
    max,
    minExclusive,
    maxExclusive,
    step: spec.step,
  } as FloatField & Marks<S>;
}

export function choice<const C extends readonly Choice[], const S extends Spec<C[number]['value']>>(
  spec: S & { choices: C },
): ChoiceField<C[number]['value']> & Marks<S> {
  const values = spec.choices.map((c) => c.value) as [C[number]['value'], ...C[number]['value'][]];
  const message = `must be one of ${values.join(', ')}`;
  return {
    ...base(spec, z.enum(values, { error: message }) as z.ZodType<C[number]['value']>, 'name'),
    kind: 'choice',
    choices: spec.choices,
  } as unknown as ChoiceField<C[number]['value']> & Marks<S>;
}

/** On or off; on the command line a flag without a value. */
export function onOff<const S extends Spec<boolean>>(spec: S): SwitchField & Marks<S> {
  const schema = z.boolean({ error: 'must be true or false' });
  return { ...base(spec, schema, ''), kind: 'switch' } as SwitchField & Marks<S>;
}

/** A path or other free text (at most 4096 characters; empty means not set). */
export function text<const S extends Spec<string>>(spec: S): TextField & Marks<S> {
  const message = 'must be text of at most 4096 characters';
  const schema = z.string({ error: message }).max(4096, message);
  return { ...base(spec, schema, 'TEXT'), kind: 'text' } as TextField & Marks<S>;
}

export function size<
  const S extends Spec<[number, number]> & { min: number; max: number; suggestions: number[] },
>(spec: S): SizeField & Marks<S> {
  const message = `must be two whole numbers [height, width] from ${spec.min} to ${spec.max}`;
  const side = z
    .number({ error: message })
    .int(message)
    .min(spec.min, message)
    .max(spec.max, message);
  const schema = z.tuple([side, side], { error: message });
  return {
    ...base(spec, schema, 'H,W'),
    kind: 'size',
    min: spec.min,
    max: spec.max,
    suggestions: spec.suggestions,
  } as unknown as SizeField & Marks<S>;
}

/** The value an option holds. */
export type ValueOf<F> = F extends FieldBase<infer V> ? V : never;
type RequiredKeys<T> = { [K in keyof T]: T[K] extends { required: true } ? K : never }[keyof T];

/** The options object a table describes: options with a default are always set, the others may be absent. */
export type OptionValues<T extends OptionTable> = {
  -readonly [K in RequiredKeys<T>]: ValueOf<T[K]>;
} & { -readonly [K in Exclude<keyof T, RequiredKeys<T>>]?: ValueOf<T[K]> };

/** One thing wrong with an option: which, and what (to be completed by its name or flag). */
export interface OptionIssue {
  key: string;
  /** "must be a number > 0, got -1" */
  problem: string;
}

function shown(value: unknown): string {
  if (value === undefined) return 'nothing';
  return typeof value === 'string' ? `'${value}'` : JSON.stringify(value);
}

/**
 * What is wrong with the given options: each value against its field, then
 * the rules between options. Only the keys present are checked, except that
 * `complete` also requires every option with a default.
 */
export function optionIssues(
  table: OptionTable,
  values: Readonly<Record<string, unknown>>,
  complete: boolean,
): OptionIssue[] {
  const issues: OptionIssue[] = [];
  for (const [key, field] of Object.entries(table)) {
    const value = values[key];
    if (value === undefined && !(complete && field.required)) continue;
    const parsed = field.schema.safeParse(value);
    if (!parsed.success) {
      const problem = parsed.error.issues[0]?.message ?? 'is not valid';
      issues.push({ key, problem: `${problem}, got ${shown(value)}` });
    }
  }
  if (issues.length > 0) return issues;
  for (const [key, field] of Object.entries(table)) {
    if (values[key] === undefined) continue;
    const problem = field.check?.(values);
    if (problem) issues.push({ key, problem });
  }
  return issues;
}

/** The zod object of a table's options: the project file's section, or the API's overrides. */
export function objectSchema(
  table: OptionTable,
  which: 'stored' | 'api',
): z.ZodObject<Record<string, z.ZodType>> {
  const shape: Record<string, z.ZodType> = {};
  for (const [key, field] of Object.entries(table)) {
    if (!field[which]) continue;
    const schema = field.schema.describe(field.help);
    // The project file fills in defaults when it is read; an API call gives only what changes.
    shape[key] =
      which === 'stored' && field.required
        ? (schema as z.ZodType<unknown>).default(field.default)
        : schema.optional();
  }
  return z.strictObject(shape);
}

/** The defaults of a table's options (those that have one). */
export function defaultsOf(table: OptionTable): Record<string, unknown> {
  return Object.fromEntries(
    Object.entries(table)
      .filter(([, f]) => f.required)
      .map(([key, f]) => [key, f.default]),
  );
}

/** `batchSize` → `--batch-size`, unless the field names its own flag. */
export function flagOf(key: string, field: OptionField): string | undefined {
  if (field.flag === false) return undefined;
  return field.flag ?? `--${key.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`;
}

/**
 * A value from text typed on the command line or in a form: numbers and
 * sizes are parsed here (H,W, HxW or H×W) and
 * checked against the field by optionIssues; anything unreadable names the
 * format expected.
 */
export function parseOptionText(
  field: OptionField,
  text: string,
): { ok: true; value: unknown } | { ok: false; problem: string } {
  switch (field.kind) {
    case 'int':
    case 'float': {
      const n = Number(text);
      if (text.trim() === '' || !Number.isFinite(n)) {
        return { ok: false, problem: `must be a number, got '${text}'` };
      }
      return { ok: true, value: n };
    }
    case 'size': {
      const sides = text.split(/[,x×]/).map((s) => Number(s.trim()));
      if (sides.length !== 2 || sides.some((s) => !Number.isInteger(s) || s < 1)) {
        return {
          ok: false,
          problem: `must be two whole numbers H,W (e.g. 96,96), got '${text}'`,
        };
      }
      return { ok: true, value: sides };
    }
    case 'switch':
      return { ok: true, value: text === 'true' };
    default:
      return { ok: true, value: text };
  }
}
