/**
 * What the next run trains on and how: the dataset (with where it was found),
 * the hyperparameters (the project's preset settings, which follow the course,
 * unless changed here) and the backend (what this machine offers, and why
 * the others are not available).
 */
import type { BackendChoice, DatasetName, TrainOptions } from '../../api/training-protocol';
import { setOverride, useTraining } from './store';

interface Props {
  options: TrainOptions;
  disabled: boolean;
}

const BACKEND_LABELS: Record<BackendChoice, string> = {
  auto: 'Best available',
  tensorflow: 'TensorFlow (tfjs-node)',
  webgpu: 'WebGPU',
  wasm: 'WebAssembly',
  cpu: 'CPU (plain JavaScript)',
};

export function TrainSettings({ options, disabled }: Props) {
  const datasets = useTraining((s) => s.datasets);
  const backends = useTraining((s) => s.backends);
  const overrides = useTraining((s) => s.overrides);
  const dataset = datasets?.find((d) => d.name === options.dataset);
  const changed = (key: keyof TrainOptions) => (key in overrides ? ' changed' : '');

  const numberField = (
    label: string,
    key: 'epochs' | 'batchSize' | 'lr' | 'momentum' | 'weightDecay',
    step: string,
    min: number,
  ) => (
    <label className="dash-field">
      <span>{label}</span>
      <input
        type="number"
        className={`num${changed(key)}`}
        name={key}
        step={step}
        min={min}
        value={options[key]}
        disabled={disabled}
        onChange={(e) => {
          const value = Number(e.target.value);
          if (e.target.value !== '' && Number.isFinite(value) && value >= min) {
            setOverride(key, value);
          }
        }}
      />
    </label>
  );

  // How many images to use; empty means all of them.
  const limitField = (label: string, key: 'limitTrain' | 'limitVal') => (
    <label className="dash-field">
      <span>{label}</span>
      <input
        type="number"
        className={`num${changed(key)}`}
        name={key}
        placeholder="all"
        min={1}
        value={options[key] ?? ''}
        disabled={disabled}
        onChange={(e) =>
          setOverride(key, e.target.value === '' ? undefined : Math.max(1, Number(e.target.value)))
        }
      />
    </label>
  );

  return (
    <section className="train-settings" aria-label="Training settings">
      <h3>Data</h3>
      <label className="dash-field">
        <span>Dataset</span>
        <select
          name="dataset"
          value={options.dataset}
          disabled={disabled}
          onChange={(e) => setOverride('dataset', e.target.value as DatasetName)}
        >
          {(datasets ?? [{ name: options.dataset, label: options.dataset, available: true }]).map(
            (d) => (
              <option key={d.name} value={d.name} disabled={!d.available}>
                {d.label}
                {d.downloadFrom ? ' (download)' : d.available ? '' : ' (not found)'}
              </option>
            ),
          )}
        </select>
      </label>
      <p className="hint" data-testid="dataset-source">
        {!datasets
          ? 'Looking for datasets…'
          : dataset?.downloadFrom
            ? `Not on this computer yet: training downloads it first from ${dataset.downloadFrom} into ${dataset.downloadTo}.`
            : dataset?.available
              ? `${dataset.trainSize?.toLocaleString()} training / ${dataset.valSize?.toLocaleString()} test images, from ${dataset.source}`
              : (dataset?.reason ?? 'This dataset is not available here.')}
      </p>
      <label className="dash-field">
        <span>Data folder</span>
        <input
          type="text"
          name="dataDir"
          className={changed('dataDir').trim()}
          placeholder="look in the usual places"
          defaultValue={options.dataDir ?? ''}
          key={options.dataDir ?? ''}
          disabled={disabled}
          title="Where to look first for the dataset; for an image folder, the folder itself"
          // Applied when left or on Enter: each change searches the datasets again.
          onBlur={(e) => setOverride('dataDir', e.target.value.trim() || undefined)}
          onKeyDown={(e) => {
            if (e.key === 'Enter') e.currentTarget.blur();
          }}
        />
      </label>
      {limitField('Training images', 'limitTrain')}
      {limitField('Test images', 'limitVal')}

      <h3>Hyperparameters</h3>
      <label className="dash-field">
        <span>Optimizer</span>
        <select
          name="optimizer"
          className={changed('optimizer').trim()}
          value={options.optimizer}
          disabled={disabled}
          onChange={(e) => setOverride('optimizer', e.target.value as TrainOptions['optimizer'])}
        >
          <option value="sgd">SGD</option>
          <option value="adam">Adam</option>
          <option value="adamw">AdamW</option>
        </select>
      </label>
      {numberField('Learning rate', 'lr', 'any', 0)}
      {numberField('Batch size', 'batchSize', '1', 1)}
      {numberField('Epochs', 'epochs', '1', 1)}
      {numberField('Momentum', 'momentum', '0.1', 0)}
      {numberField('Weight decay', 'weightDecay', 'any', 0)}
      <label className="dash-field">
        <span>Resize to</span>
        <select
          name="resize"
          value={options.resize ? String(options.resize[0]) : ''}
          disabled={disabled}
          onChange={(e) =>
            setOverride(
              'resize',
              e.target.value === '' ? undefined : [Number(e.target.value), Number(e.target.value)],
            )
          }
        >
          <option value="">no resize</option>
          {[32, 64, 96, 224].map((size) => (
            <option key={size} value={size}>
              {size}×{size}
            </option>
          ))}
        </select>
      </label>
      <label className="dash-field">
        <span>Initialisation</span>
        <select
          name="init"
          value={options.init}
          disabled={disabled}
          onChange={(e) => setOverride('init', e.target.value as TrainOptions['init'])}
        >
          <option value="xavier">Xavier (course's init_cnn)</option>
          <option value="pytorch">PyTorch default</option>
        </select>
      </label>

      <h3>Backend</h3>
      <label className="dash-field">
        <span>Run on</span>
        <select
          name="backend"
          value={options.backend}
          disabled={disabled}
          onChange={(e) => setOverride('backend', e.target.value as BackendChoice)}
        >
          <option value="auto">{BACKEND_LABELS.auto}</option>
          {(backends ?? []).map((b) => (
            <option key={b.name} value={b.name} disabled={!b.available}>
              {BACKEND_LABELS[b.name] ?? b.name}
              {b.available ? '' : ' (not available)'}
            </option>
          ))}
        </select>
      </label>
      <ul className="backend-list" aria-label="Backends on this machine">
        {(backends ?? []).map((b) => (
          <li key={b.name} className={b.available ? 'available' : 'unavailable'}>
            <span className="dot" aria-hidden="true" />
            <strong>{BACKEND_LABELS[b.name] ?? b.name}</strong>
            {b.reason ? <span className="why"> — {b.reason}</span> : null}
          </li>
        ))}
      </ul>
    </section>
  );
}
