/** One parameter's editor, chosen by the field's kind; text kinds validate as you type. */
import { useEffect, useId, useRef, useState } from 'react';
import type { Field } from '../../core/layers/fields';
import { formatField, parseField } from './field-text';

interface Props {
  name: string;
  field: Field;
  value: unknown;
  /** An error inference reported for this field (e.g. a kernel larger than its input). */
  problem?: string;
  /** Brought into view and focused: the field that fixes a problem the user followed. */
  highlight?: boolean;
  onChange(value: unknown): void;
}

const placeholders: Partial<Record<Field['kind'], string>> = {
  pair: 'n or h, w',
  optionalPair: 'empty: same as kernel',
  padding: "n, h, w, 'same' or 'valid'",
  intList: 'e.g. 64, 128',
};

export function FieldEditor({ name, field, value, problem, highlight, onChange }: Props) {
  const id = useId();
  const stored = formatField(field, value);
  const [draft, setDraft] = useState(stored);
  const [error, setError] = useState<string | null>(null);
  const committed = useRef(stored);
  const box = useRef<HTMLDivElement>(null);

  useEffect(() => {
    if (!highlight) return;
    box.current?.scrollIntoView({ block: 'nearest' });
    box.current?.querySelector<HTMLElement>('input, select')?.focus();
  }, [highlight]);

  // Undo, redo and other edits change the value from outside: show it.
  useEffect(() => {
    if (stored !== committed.current) {
      committed.current = stored;
      setDraft(stored);
      setError(null);
    }
  }, [stored]);

  const commitText = (text: string) => {
    setDraft(text);
    const parsed = parseField(field, text);
    if (!parsed.ok) {
      setError(parsed.error);
      return;
    }
    setError(null);
    committed.current = formatField(field, parsed.value);
    onChange(parsed.value);
  };

  let input: React.ReactNode;
  if (field.kind === 'bool') {
    input = (
      <input
        id={id}
        type="checkbox"
        checked={value === true}
        onChange={(e) => onChange(e.target.checked)}
        data-testid={`field-${name}`}
      />
    );
  } else if (field.kind === 'enum') {
    input = (
      <select
        id={id}
        value={String(value)}
        onChange={(e) => onChange(e.target.value)}
        data-testid={`field-${name}`}
      >
        {field.options.map((o) => (
          <option key={o} value={o}>
            {o}
          </option>
        ))}
      </select>
    );
  } else {
    input = (
      <input
        id={id}
        type="text"
        inputMode={field.kind === 'int' || field.kind === 'float' ? 'decimal' : 'text'}
        value={draft}
        placeholder={placeholders[field.kind]}
        onChange={(e) => commitText(e.target.value)}
        onBlur={() => {
          if (error) {
            setDraft(committed.current);
            setError(null);
          }
        }}
        aria-invalid={error !== null || problem !== undefined}
        data-testid={`field-${name}`}
        spellCheck={false}
      />
    );
  }
  const message = error ?? problem;
  return (
    <div
      ref={box}
      className={`field${message ? ' field-invalid' : ''}${highlight ? ' field-focus' : ''}`}
    >
      <label htmlFor={id}>{name}</label>
      {input}
      {message ? (
        <p className="field-error" role="alert">
          {error ? `${name} ${error}` : message}
        </p>
      ) : (
        <p className="field-help">{field.help}</p>
      )}
    </div>
  );
}
