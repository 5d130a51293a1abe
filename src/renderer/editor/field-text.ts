/**
 * How the inspector shows and reads each field kind as text: "3" or "3, 5"
 * for pairs, "same"/"valid" for padding, "" for an empty optional pair,
 * "64, 128" for lists. Parsing validates with the field's own schema, so the
 * inspector reports exactly what the file loader would.
 */
import type { Field } from '../../core/layers/fields';

export function formatField(field: Field, value: unknown): string {
  if (value === null || value === undefined) return '';
  if (Array.isArray(value)) {
    if (
      (field.kind === 'pair' || field.kind === 'optionalPair' || field.kind === 'padding') &&
      value[0] === value[1]
    )
      return String(value[0]);
    return value.join(', ');
  }
  return String(value);
}

export type ParsedField = { ok: true; value: unknown } | { ok: false; error: string };

export function parseField(field: Field, text: string): ParsedField {
  const trimmed = text.trim();
  let raw: unknown;
  switch (field.kind) {
    case 'int':
    case 'float':
      if (trimmed === '') return { ok: false, error: 'enter a number' };
      raw = Number(trimmed);
      if (Number.isNaN(raw)) return { ok: false, error: `'${trimmed}' is not a number` };
      break;
    case 'bool':
      raw = trimmed === 'true';
      break;
    case 'enum':
    case 'text':
      raw = text;
      break;
    case 'optionalPair':
      raw = trimmed === '' ? null : numbers(trimmed);
      break;
    case 'padding':
      raw = trimmed === 'same' || trimmed === 'valid' ? trimmed : numbers(trimmed);
      break;
    case 'pair':
      raw = numbers(trimmed);
      break;
    case 'intList':
      raw = trimmed === '' ? [] : numbers(trimmed, true);
      break;
  }
  const parsed = field.schema.safeParse(raw);
  if (parsed.success)
    return {
      ok: true,
      value:
        field.kind === 'pair' || field.kind === 'padding' || field.kind === 'optionalPair'
          ? raw
          : parsed.data,
    };
  return { ok: false, error: parsed.error.issues[0]?.message ?? 'invalid value' };
}

/** "3" → 3, "3, 5" or "3×5" → [3, 5]; anything else is left for the schema to reject. */
function numbers(text: string, list = false): unknown {
  const parts = text.split(/[\s,×x]+/).filter(Boolean);
  const values = parts.map(Number);
  if (parts.length === 0 || values.some(Number.isNaN)) return text;
  if (list) return values;
  return values.length === 1 ? values[0] : values;
}
