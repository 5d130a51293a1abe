/**
 * One training option in the Train form, drawn from its field in the options
 * table (core/training/options.ts): a select for choices and sizes, a number
 * box for numbers (empty: "not set" for optional ones), a text box applied
 * when left for paths, a checkbox for switches.
 */
import { type ReactNode, useId } from 'react';
import type { OptionField } from '../../core/training/option-fields';

export interface ChoiceState {
  /** Cannot be chosen here (a dataset not found, a backend not available). */
  disabled?: boolean;
  /** Said after its label: ' (download)', ' (not available)'. */
  note?: string;
}

interface Props {
  name: string;
  field: OptionField;
  value: unknown;
  /** Set for the next run, instead of the project's setting. */
  changed: boolean;
  disabled: boolean;
  /** undefined: back to the project's setting (or "not set"). */
  onChange(value: unknown): void;
  /** The state of each choice on this machine. */
  choiceState?: (value: string) => ChoiceState;
  /** Shown under the field (where a dataset was found). */
  children?: ReactNode;
}

export function OptionInput({
  name,
  field,
  value,
  changed,
  disabled,
  onChange,
  choiceState,
  children,
}: Props) {
  const id = useId();
  const className = changed ? 'changed' : '';
  let input: ReactNode;
  switch (field.kind) {
    case 'choice':
      input = (
        <select
          id={id}
          name={name}
          className={className}
          value={String(value)}
          disabled={disabled}
          onChange={(e) => onChange(e.target.value)}
        >
          {field.choices.map((c) => {
            const state = choiceState?.(c.value) ?? {};
            return (
              <option key={c.value} value={c.value} disabled={state.disabled}>
                {c.label}
                {state.note ?? ''}
              </option>
            );
          })}
        </select>
      );
      break;
    case 'size': {
      const side = Array.isArray(value) ? String(value[0]) : '';
      const sizes = field.suggestions.map(String);
      input = (
        <select
          id={id}
          name={name}
          className={className}
          value={side}
          disabled={disabled}
          onChange={(e) =>
            onChange(
              e.target.value === '' ? undefined : [Number(e.target.value), Number(e.target.value)],
            )
          }
        >
          <option value="">{field.placeholder}</option>
          {/* A size set in the project file that the list does not offer stays visible. */}
          {(side === '' || sizes.includes(side) ? sizes : [...sizes, side]).map((s) => (
            <option key={s} value={s}>
              {s}×{s}
            </option>
          ))}
        </select>
      );
      break;
    }
    case 'int':
    case 'float': {
      const min = field.min ?? 0;
      input = (
        <input
          id={id}
          type="number"
          className={`num ${className}`.trim()}
          name={name}
          step={field.kind === 'int' ? '1' : (field.step ?? 'any')}
          min={min}
          placeholder={field.placeholder}
          value={value === undefined ? '' : String(value)}
          disabled={disabled}
          onChange={(e) => {
            const text = e.target.value;
            if (text === '' && !field.required) return onChange(undefined);
            const n = Number(text);
            // A half-typed number is not sent: the engine's checks speak when it is complete.
            if (text !== '' && Number.isFinite(n) && n >= min) onChange(n);
          }}
        />
      );
      break;
    }
    case 'text':
      input = (
        <input
          id={id}
          type="text"
          name={name}
          className={className}
          placeholder={field.placeholder}
          defaultValue={typeof value === 'string' ? value : ''}
          key={typeof value === 'string' ? value : ''}
          disabled={disabled}
          title={field.help}
          // Applied when left or on Enter, not per key: a change may start work (a dataset search).
          onBlur={(e) => onChange(e.target.value.trim() || undefined)}
          onKeyDown={(e) => {
            if (e.key === 'Enter') e.currentTarget.blur();
          }}
        />
      );
      break;
    case 'switch':
      input = (
        <input
          id={id}
          type="checkbox"
          name={name}
          checked={value === true}
          disabled={disabled}
          onChange={(e) => onChange(e.target.checked)}
        />
      );
      break;
  }
  return (
    <>
      <div className="dash-field" title={field.help}>
        <label htmlFor={id}>{field.label}</label>
        {input}
      </div>
      {children}
    </>
  );
}
