/**
 * Command-line flags derived from the training-options table
 * (core/training/options.ts): each option with a flag becomes a commander
 * option with its help text, and the flags given are read back as option
 * values, with mistakes named by flag (`--lr must be a number > 0, got -1`).
 */
import { type Command, Option } from 'commander';
import { flagOf, type OptionField, parseOptionText } from '../core/training/option-fields';
import {
  checkTrainOptions,
  describeOptionIssues,
  type TrainingOptionKey,
  type TrainOptions,
  TrainOptionsError,
  trainingOptions,
} from '../core/training/options';
import { CliError } from './errors';

const flagged = (Object.entries(trainingOptions) as [TrainingOptionKey, OptionField][]).flatMap(
  ([key, field]) => {
    const flag = flagOf(key, field);
    return flag ? [{ key, field, flag }] : [];
  },
);

function commanderOption({ field, flag }: (typeof flagged)[number]): Option {
  const choices =
    field.kind === 'choice' ? ` (${field.choices.map((c) => c.value).join(', ')})` : '';
  // A per-run option's default is said; a stored one's comes from the project, so it is not.
  const fallback = field.required && !field.stored ? ` (default: ${field.default})` : '';
  return new Option(
    field.kind === 'switch' ? flag : `${flag} <${field.valueName}>`,
    `${field.help}${choices}${fallback}`,
  );
}

/** Adds a flag for every training option that has one (`--epochs <N>`, `--resume`, …). */
export function addTrainingFlags(command: Command): Command {
  for (const entry of flagged) command.addOption(commanderOption(entry));
  return command;
}

/** The options the flags give (absent flags left out); an unreadable value names its flag. */
export function readTrainingFlags(flags: Record<string, unknown>): Partial<TrainOptions> {
  const values: Record<string, unknown> = {};
  for (const entry of flagged) {
    const raw = flags[commanderOption(entry).attributeName()];
    if (raw === undefined) continue;
    if (typeof raw !== 'string') {
      values[entry.key] = raw;
      continue;
    }
    const parsed = parseOptionText(entry.field, raw);
    if (!parsed.ok) throw new CliError(`${entry.flag} ${parsed.problem}`);
    values[entry.key] = parsed.value;
  }
  return values as Partial<TrainOptions>;
}

/** A TrainOptionsError reworded with flag names, for the command line. */
export function flagError(error: unknown): unknown {
  if (!(error instanceof TrainOptionsError)) return error;
  return new CliError(
    describeOptionIssues(error.issues, (key) => {
      const entry = flagged.find((f) => f.key === key);
      return entry ? entry.flag : trainingOptions[key as TrainingOptionKey].name;
    }),
  );
}

/** Checks some options given as flags (bench's --backend), naming the flag on failure. */
export function checkFlagValues(options: Partial<TrainOptions>): void {
  try {
    checkTrainOptions(options, { partial: true });
  } catch (error) {
    throw flagError(error);
  }
}
