/**
 * What the next run trains on and how: every option of the training-options
 * table that the form shows (core/training/options.ts), section by section,
 * with the project's settings unless changed here; the dataset says where it
 * was found, and the backends what this machine offers and why the others
 * are not available.
 */
import { Fragment, type ReactNode } from 'react';
import type { BackendStatus } from '../../api/training-api';
import type { OptionField, OptionGroup } from '../../core/training/option-fields';
import {
  type TrainingOptionKey,
  type TrainOptions,
  trainingOptions,
} from '../../core/training/options';
import { type ChoiceState, OptionInput } from './OptionInput';
import { setOverride, useTraining } from './store';

interface Props {
  options: TrainOptions;
  disabled: boolean;
}

const SECTIONS: { group: OptionGroup; title: string }[] = [
  { group: 'data', title: 'Data' },
  { group: 'augmentation', title: 'Augmentation (training images only)' },
  { group: 'hyperparameters', title: 'Hyperparameters' },
  { group: 'backend', title: 'Backend' },
];

const formOptions = Object.entries(trainingOptions).filter(([, field]) => field.form) as [
  TrainingOptionKey,
  OptionField,
][];

const backendLabel = (name: string) =>
  trainingOptions.backend.choices.find((c) => c.value === name)?.label ?? name;

/** PyTorch says whether it found a CUDA GPU or trains on the CPU. */
const torchPlace = (status: BackendStatus | undefined) =>
  status?.name === 'pytorch' && status.available && status.device
    ? ` (${status.device.startsWith('CUDA') ? 'CUDA' : 'CPU'})`
    : '';

export function TrainSettings({ options, disabled }: Props) {
  const datasets = useTraining((s) => s.datasets);
  const backends = useTraining((s) => s.backends);
  const overrides = useTraining((s) => s.overrides);
  const dataset = datasets?.find((d) => d.name === options.dataset);

  /** What this machine says about each dataset and backend, once it has answered. */
  const choiceStates: Partial<Record<TrainingOptionKey, (value: string) => ChoiceState>> = {
    dataset: (name) => {
      const status = datasets?.find((d) => d.name === name);
      if (!status) return {};
      if (status.downloadFrom) return { note: ' (download)' };
      return status.available ? {} : { disabled: true, note: ' (not found)' };
    },
    backend: (name) => {
      const status = backends?.find((b) => b.name === name);
      if (status && !status.available) return { disabled: true, note: ' (not available)' };
      return { note: torchPlace(status) };
    },
  };

  const extras: Partial<Record<TrainingOptionKey, ReactNode>> = {
    dataset: (
      <p className="hint" data-testid="dataset-source">
        {!datasets
          ? 'Looking for datasets…'
          : dataset?.downloadFrom
            ? `Not on this computer yet: training downloads it first from ${dataset.downloadFrom} into ${dataset.downloadTo}.`
            : dataset?.available
              ? `${dataset.trainSize?.toLocaleString()} training / ${dataset.valSize?.toLocaleString()} test images, from ${dataset.source}`
              : (dataset?.reason ?? 'This dataset is not available here.')}
      </p>
    ),
    backend: (
      <ul className="backend-list" aria-label="Backends on this machine">
        {(backends ?? []).map((b) => (
          <li
            key={b.name}
            className={b.available ? 'available' : 'unavailable'}
            data-testid={`backend-${b.name}`}
          >
            <span className="dot" aria-hidden="true" />
            <strong>
              {backendLabel(b.name)}
              {torchPlace(b)}
            </strong>
            {b.available && b.device ? <span className="device"> — {b.device}</span> : null}
            {b.reason ? <span className="why"> — {b.reason}</span> : null}
          </li>
        ))}
      </ul>
    ),
  };

  return (
    <section className="train-settings" aria-label="Training settings">
      {SECTIONS.map(({ group, title }) => (
        <Fragment key={group}>
          <h3>{title}</h3>
          {formOptions
            .filter(([, field]) => field.group === group && (field.shownWhen?.(options) ?? true))
            .map(([key, field]) => (
              <OptionInput
                key={key}
                name={key}
                field={field}
                value={options[key]}
                changed={key in overrides}
                disabled={disabled}
                onChange={(value) => setOverride(key, value as TrainOptions[typeof key])}
                choiceState={choiceStates[key]}
              >
                {extras[key]}
              </OptionInput>
            ))}
        </Fragment>
      ))}
    </section>
  );
}
