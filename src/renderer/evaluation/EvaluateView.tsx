/**
 * The Evaluate area: pick weights (a run of this project, or freshly
 * initialised ones to compare), classify test images (confusion matrix,
 * per-class accuracy, misclassified gallery), and follow one image through
 * the network (a test image, random noise, or a picture dropped in).
 */
import { useEffect, useState } from 'react';
import type { RunSummary, TrainingTarget } from '../../api/training-api';
import { defaultTrainOptions } from '../../core/training/options';
import { useApi } from '../api/context';
import { ProgressBar } from '../app/ProgressBar';
import { useStudio } from '../state/store';
import {
  connectTraining,
  loadDatasets,
  refreshRuns,
  setTarget,
  useTraining,
} from '../training/store';
import { ConfusionMatrix, MisclassifiedGallery, PerClassAccuracy } from './ClassificationPanels';
import { FeatureMaps, Kernels, TopPredictions } from './InspectPanels';
import { ImageView, imageFileToBytes } from './images';
import {
  chooseWeights,
  inspectImage,
  runClassification,
  setLimit,
  showEvaluationError,
  useEvaluation,
} from './store';
import '../training/training.css';
import './evaluation.css';

export default function EvaluateView() {
  const api = useApi();
  const project = useStudio((s) => s.project);
  const projectPath = useStudio((s) => s.path);
  const runs = useTraining((s) => s.runs);
  const { weights, pinned, limit, report, inspect, probe, busy, progress, error } = useEvaluation();
  const [testIndex, setTestIndex] = useState(0);
  const [dragging, setDragging] = useState(false);
  const target: TrainingTarget = { project, projectPath: projectPath ?? undefined };
  const withWeights = runs.filter((r) => r.hasWeights || r.epochsDone > 0);

  useEffect(() => {
    connectTraining(api);
    setTarget({ project, projectPath: projectPath ?? undefined });
    void refreshRuns();
  }, [api, project, projectPath]);
  const newest = withWeights[0]?.id;
  useEffect(() => {
    // Follow the newest run with weights (else fresh weights) until the user picks some.
    if (!pinned)
      chooseWeights(newest ? { kind: 'run', runId: newest } : { kind: 'initial' }, false);
  }, [pinned, newest]);

  // A dropped picture is scaled to the size of the images the weights were trained on.
  const datasets = useTraining((s) => s.datasets);
  useEffect(() => {
    if (!datasets) void loadDatasets();
  }, [datasets]);
  const datasetName =
    weights?.kind === 'run'
      ? runs.find((r) => r.id === weights.runId)?.options.dataset
      : (project.training?.dataset ?? defaultTrainOptions.dataset);
  const datasetShape = datasets?.find((d) => d.name === datasetName)?.inputShape;
  const onDrop = async (file: File | undefined) => {
    if (!file) return;
    const size =
      inspect?.input ??
      (datasetShape && {
        height: datasetShape[0],
        width: datasetShape[1],
        channels: datasetShape[2],
      });
    if (!size) {
      showEvaluationError(
        `The ${datasetName} dataset was not found, so the size to scale the picture to is unknown.`,
      );
      return;
    }
    const image = await imageFileToBytes(file, size.width, size.height, size.channels);
    await inspectImage(api, target, { kind: 'pixels', image });
  };

  return (
    <div className="evaluate-view">
      <div className="evaluate-main">
        <section className="evaluate-controls" aria-label="Weights">
          <label className="dash-field">
            <span>Weights</span>
            <select
              name="weights"
              value={weights?.kind === 'run' ? weights.runId : 'initial'}
              onChange={(e) =>
                chooseWeights(
                  e.target.value === 'initial'
                    ? { kind: 'initial' }
                    : { kind: 'run', runId: e.target.value },
                  true,
                )
              }
            >
              {withWeights.map((r) => (
                <option key={r.id} value={r.id}>
                  {runLabel(r)}
                </option>
              ))}
              <option value="initial">Freshly initialised (untrained)</option>
            </select>
          </label>
          <WholeNumberField
            label="Test images"
            name="evaluate-limit"
            min={1}
            value={limit}
            onChange={setLimit}
          />
          <button
            type="button"
            className="button primary"
            disabled={!weights || busy !== null}
            onClick={() => void runClassification(api, target)}
          >
            {busy === 'classify' ? 'Classifying…' : 'Classify test images'}
          </button>
          {busy === 'classify' ? (
            <span className="evaluation-progress" data-testid="evaluation-progress">
              <ProgressBar
                fraction={progress ? progress.done / progress.total : 0}
                label="Classification"
              />
              {progress
                ? `${progress.done.toLocaleString()} / ${progress.total.toLocaleString()} images`
                : 'loading the weights and the test set…'}
            </span>
          ) : null}
          {report ? (
            <span className="headline" data-testid="evaluation-accuracy">
              Accuracy <b>{(report.accuracy * 100).toFixed(1)}%</b> on{' '}
              {report.count.toLocaleString()} images · loss {report.loss.toFixed(3)}{' '}
              <span className="hint">({report.backend})</span>
            </span>
          ) : null}
        </section>
        {error ? (
          <p className="notice error" role="alert" data-testid="evaluation-error">
            {error}
          </p>
        ) : null}

        {report ? (
          <div className="evaluate-row">
            <section aria-label="Confusion matrix">
              <h3>Confusion matrix</h3>
              <ConfusionMatrix report={report} />
            </section>
            <section aria-label="Per-class accuracy" className="grow">
              <h3>Per-class accuracy</h3>
              <PerClassAccuracy report={report} />
            </section>
          </div>
        ) : null}
        {report ? (
          <section aria-label="Misclassified test images">
            <h3>
              Misclassified{' '}
              <span className="hint">most confident mistakes first; click one to see inside</span>
            </h3>
            <MisclassifiedGallery
              report={report}
              onInspect={(index) => {
                setTestIndex(index);
                void inspectImage(api, target, { kind: 'test', index });
              }}
            />
          </section>
        ) : null}

        <section aria-label="Inspect an image">
          <h3>Inside the network</h3>
          <div className="probe-controls">
            <WholeNumberField
              label="Test image"
              name="test-index"
              min={0}
              value={testIndex}
              onChange={setTestIndex}
            />
            <button
              type="button"
              className="button"
              disabled={!weights || busy !== null}
              onClick={() => void inspectImage(api, target, { kind: 'test', index: testIndex })}
            >
              Show feature maps
            </button>
            <button
              type="button"
              className="button"
              disabled={!weights || busy !== null}
              onClick={() =>
                void inspectImage(api, target, { kind: 'noise', seed: Date.now() % 100_000 })
              }
            >
              Random noise
            </button>
            <label
              className={`drop-zone${dragging ? ' dragging' : ''}`}
              onDragOver={(e) => {
                e.preventDefault();
                setDragging(true);
              }}
              onDragLeave={() => setDragging(false)}
              onDrop={(e) => {
                e.preventDefault();
                setDragging(false);
                void onDrop(e.dataTransfer.files[0]);
              }}
            >
              Drop a picture here or choose one
              <input
                type="file"
                accept="image/*"
                name="probe-file"
                onChange={(e) => void onDrop(e.target.files?.[0])}
              />
            </label>
          </div>
          {inspect ? (
            <div className="inspect">
              <div className="probe">
                <ImageView image={inspect.input} size={140} />
                <div className="hint">
                  {probe.kind === 'test'
                    ? `Test image ${probe.index}: ${inspect.label !== undefined ? inspect.classes[inspect.label] : ''}`
                    : probe.kind === 'noise'
                      ? 'Uniform noise'
                      : 'Your picture, as the network sees it'}
                </div>
                <h3>Top predictions</h3>
                <TopPredictions report={inspect} />
              </div>
              <div className="grow">
                <h3>Feature maps</h3>
                <FeatureMaps report={inspect} />
              </div>
            </div>
          ) : (
            <p className="hint">
              {busy === 'inspect'
                ? 'Running the image through the network…'
                : 'Choose an image to see every layer’s output.'}
            </p>
          )}
        </section>
        {inspect?.kernels ? (
          <section aria-label="First-layer kernels">
            <h3>First-layer kernels</h3>
            <Kernels kernels={inspect.kernels} />
          </section>
        ) : null}
      </div>
    </div>
  );
}

function runLabel(run: RunSummary): string {
  const parts = [
    `Run of ${new Date(run.startedAt).toLocaleString()}`,
    run.status,
    `${run.epochsDone} epoch${run.epochsDone === 1 ? '' : 's'}`,
  ];
  if (run.last) parts.push(`val acc ${(run.last.valAcc * 100).toFixed(1)}%`);
  return parts.join(' · ');
}

/** A labelled number input that hands on whole numbers of at least `min`. */
function WholeNumberField(props: {
  label: string;
  name: string;
  min: number;
  value: number;
  onChange: (value: number) => void;
}) {
  const { label, name, min, value, onChange } = props;
  return (
    <label className="dash-field">
      <span>{label}</span>
      <input
        type="number"
        className="num"
        name={name}
        min={min}
        step={1}
        value={value}
        onChange={(e) => onChange(Math.max(min, Math.floor(Number(e.target.value)) || min))}
      />
    </label>
  );
}
