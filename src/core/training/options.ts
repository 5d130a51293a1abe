/**
 * The training options: what a run trains on and how. This table is the one
 * place an option is declared; from it come the `TrainOptions` type, the
 * defaults, the project file's `training` section (and its JSON Schema), the
 * API's validation, the command line's `train` flags, the engine's checks and
 * the Train form. Adding an option is one entry here (and the code that acts
 * on it).
 */
import type { z } from 'zod';
import type { Project } from '../document/schema';
import {
  choice,
  defaultsOf,
  float,
  int,
  type OptionField,
  type OptionIssue,
  type OptionValues,
  objectSchema,
  onOff,
  optionIssues,
  size,
  text,
} from './option-fields';

/** The options only the PyTorch engine has: refused with another backend. */
const pytorchOnly = (o: Readonly<Record<string, unknown>>) =>
  o.backend === 'pytorch' ? undefined : 'applies to the PyTorch engine only; add --backend pytorch';

export const trainingOptions = {
  dataset: choice({
    keptOnResume: true,
    label: 'Dataset',
    group: 'data',
    stored: true,
    help: 'what to train on',
    choices: [
      { value: 'fashion-mnist', label: 'Fashion-MNIST' },
      { value: 'mnist', label: 'MNIST' },
      { value: 'sample', label: 'Sample (bundled)' },
      { value: 'folder', label: 'Image folder (one subfolder per class)' },
    ],
    default: 'fashion-mnist',
  }),
  dataDir: text({
    label: 'Data folder',
    group: 'data',
    stored: true,
    help: 'where to look for the dataset first; for an image folder, the folder itself',
    valueName: 'DIR',
    placeholder: 'look in the usual places',
  }),
  limitTrain: int({
    keptOnResume: true,
    label: 'Training images',
    group: 'data',
    help: 'train on the first N images only',
    min: 1,
    placeholder: 'all',
  }),
  limitVal: int({
    label: 'Test images',
    group: 'data',
    help: 'validate on the first N test images only',
    min: 1,
    placeholder: 'all',
  }),
  optimizer: choice({
    keptOnResume: true,
    label: 'Optimizer',
    group: 'hyperparameters',
    stored: true,
    help: 'the update rule, as torch.optim’s SGD, Adam and AdamW',
    choices: [
      { value: 'sgd', label: 'SGD' },
      { value: 'adam', label: 'Adam' },
      { value: 'adamw', label: 'AdamW' },
    ],
    default: 'sgd',
  }),
  lr: float({
    label: 'Learning rate',
    group: 'hyperparameters',
    stored: true,
    help: 'learning rate',
    min: 0,
    minExclusive: true,
    default: 0.1,
  }),
  batchSize: int({
    keptOnResume: true,
    label: 'Batch size',
    group: 'hyperparameters',
    stored: true,
    help: 'images per step',
    valueName: 'B',
    min: 1,
    max: 65_536,
    default: 128,
  }),
  epochs: int({
    label: 'Epochs',
    group: 'hyperparameters',
    stored: true,
    help: 'passes over the training set',
    min: 1,
    max: 10_000,
    default: 10,
  }),
  momentum: float({
    label: 'Momentum',
    group: 'hyperparameters',
    stored: true,
    help: 'SGD momentum (PyTorch’s: dampening 0, no Nesterov)',
    valueName: 'M',
    min: 0,
    max: 1,
    maxExclusive: true,
    step: 0.1,
    default: 0,
    check: (o) =>
      o.momentum !== 0 && o.optimizer !== undefined && o.optimizer !== 'sgd'
        ? `applies to sgd only; ${o.optimizer} uses its own moments`
        : undefined,
  }),
  weightDecay: float({
    label: 'Weight decay',
    group: 'hyperparameters',
    stored: true,
    help: 'L2 (sgd, adam) or decoupled (adamw) weight decay',
    valueName: 'W',
    min: 0,
    default: 0,
  }),
  schedule: choice({
    label: 'Schedule',
    group: 'hyperparameters',
    stored: true,
    help: 'the learning rate per epoch: constant; step multiplies it by gamma every step size epochs (StepLR); cosine anneals it to eta_min over the run (CosineAnnealingLR)',
    choices: [
      { value: 'constant', label: 'Constant' },
      { value: 'step', label: 'Step (StepLR)' },
      { value: 'cosine', label: 'Cosine (CosineAnnealingLR)' },
    ],
    default: 'constant',
  }),
  stepSize: int({
    label: 'Step every (epochs)',
    name: 'step size',
    group: 'hyperparameters',
    stored: true,
    help: 'step schedule: epochs between two drops of the learning rate (StepLR step_size); empty: a third of the run',
    valueName: 'EPOCHS',
    min: 1,
    max: 10_000,
    placeholder: 'a third of the run',
    shownWhen: (o) => o.schedule === 'step',
  }),
  gamma: float({
    label: 'Step factor (gamma)',
    name: 'gamma',
    group: 'hyperparameters',
    stored: true,
    help: 'step schedule: what each drop multiplies the learning rate by (StepLR gamma)',
    valueName: 'G',
    min: 0,
    minExclusive: true,
    max: 1,
    step: 0.1,
    default: 0.1,
    shownWhen: (o) => o.schedule === 'step',
  }),
  etaMin: float({
    label: 'Final rate (eta_min)',
    name: 'eta_min',
    group: 'hyperparameters',
    stored: true,
    help: 'cosine schedule: the learning rate the run ends at (CosineAnnealingLR eta_min)',
    valueName: 'X',
    min: 0,
    default: 0,
    shownWhen: (o) => o.schedule === 'cosine',
    check: (o) =>
      typeof o.lr === 'number' && typeof o.etaMin === 'number' && o.etaMin > o.lr
        ? `must not be above the learning rate (${o.lr}): cosine annealing comes down to it`
        : undefined,
  }),
  cropPadding: int({
    label: 'Random crop padding',
    name: 'crop padding',
    group: 'augmentation',
    stored: true,
    help: "training images only: pad each side with N zero pixels, then cut the image's size at a random place (torchvision RandomCrop(size, padding=N)); 0: off",
    valueName: 'N',
    min: 0,
    max: 64,
    default: 0,
  }),
  flip: onOff({
    label: 'Random horizontal flip',
    name: 'flip',
    group: 'augmentation',
    stored: true,
    help: 'training images only: mirror half of them left to right (torchvision RandomHorizontalFlip(p=0.5))',
    default: false,
  }),
  resize: size({
    keptOnResume: true,
    label: 'Resize to',
    name: 'resize',
    group: 'hyperparameters',
    stored: true,
    help: 'resize images in the pipeline (the course: 96,96 for ResNet)',
    min: 1,
    max: 4096,
    suggestions: [32, 64, 96, 224],
    placeholder: 'no resize',
  }),
  init: choice({
    label: 'Initialisation',
    group: 'hyperparameters',
    stored: true,
    help: 'initial weights: the course’s init_cnn (Xavier-uniform) or PyTorch’s layer defaults',
    valueName: 'scheme',
    choices: [
      { value: 'xavier', label: "Xavier (course's init_cnn)" },
      { value: 'pytorch', label: 'PyTorch default' },
    ],
    default: 'xavier',
  }),
  seed: int({
    keptOnResume: true,
    label: 'Seed',
    group: 'hyperparameters',
    stored: true,
    form: false,
    help: 'seed for initial weights, shuffling and dropout',
    valueName: 'S',
    default: 0,
  }),
  backend: choice({
    label: 'Run on',
    name: 'backend',
    group: 'backend',
    help: 'where to train; auto: the best that works here',
    choices: [
      { value: 'auto', label: 'Best available' },
      { value: 'tensorflow', label: 'TensorFlow (tfjs-node)' },
      { value: 'webgpu', label: 'WebGPU' },
      { value: 'wasm', label: 'WebAssembly' },
      { value: 'cpu', label: 'CPU (plain JavaScript)' },
      { value: 'pytorch', label: 'PyTorch' },
    ],
    default: 'auto',
  }),
  threads: int({
    label: 'CPU threads',
    name: 'threads',
    group: 'backend',
    help: 'CPU threads for wasm and PyTorch (default: for wasm the cores idle when training starts, at most 8; for PyTorch its own default, the cores)',
    valueName: 'T',
    min: 1,
    max: 1024,
    placeholder: 'idle cores',
  }),
  checkpointMinutes: float({
    label: 'Checkpoint every (minutes)',
    name: 'checkpoint interval',
    group: 'run',
    form: false,
    help: 'also checkpoint within an epoch after this many minutes, so a crash loses at most that much (0: at epoch ends only)',
    valueName: 'M',
    min: 0,
    default: 5,
  }),
  damagedImages: choice({
    label: 'Damaged images',
    group: 'data',
    form: false,
    help: 'an image of a folder dataset that cannot be read: skip it with a warning naming it, or refuse the dataset',
    valueName: 'what',
    choices: [
      { value: 'skip', label: 'Skip, with a warning' },
      { value: 'refuse', label: 'Refuse the dataset' },
    ],
    default: 'skip',
  }),
  webgpuStep: choice({
    label: 'WebGPU step',
    name: 'WebGPU step',
    group: 'backend',
    help: 'on WebGPU, how a training step runs: compiled (prepared once, one submission per step) or op by op (tfjs issues every kernel; slower, for comparison)',
    valueName: 'path',
    choices: [
      { value: 'compiled', label: 'Compiled (one prepared step)' },
      { value: 'op-by-op', label: 'Op by op (tfjs, for comparison)' },
    ],
    default: 'compiled',
  }),
  device: choice({
    label: 'PyTorch device',
    name: 'device',
    group: 'backend',
    form: false,
    help: 'pytorch: where it computes; auto is a CUDA GPU when torch sees one, else the CPU',
    valueName: 'where',
    choices: [
      { value: 'auto', label: 'Best available' },
      { value: 'cpu', label: 'CPU' },
      { value: 'cuda', label: 'CUDA GPU' },
    ],
    check: pytorchOnly,
  }),
  nprocPerNode: int({
    label: 'Processes per machine',
    name: 'nproc-per-node',
    group: 'backend',
    api: false,
    help: 'pytorch: N processes under torchrun (DistributedDataParallel: gloo on CPU, nccl on GPUs, one per GPU)',
    min: 1,
    check: pytorchOnly,
  }),
  nnodes: int({
    label: 'Machines',
    name: 'nnodes',
    group: 'backend',
    api: false,
    help: 'pytorch under torchrun: machines taking part, each running the same command',
    min: 1,
    check: (o) =>
      pytorchOnly(o) ??
      ((o.nnodes as number) > 1 && (o.nodeRank === undefined || o.rdzvEndpoint === undefined)
        ? `above 1 needs --node-rank (this machine's place, 0 to ${(o.nnodes as number) - 1}) and --rdzv-endpoint (host:port of node 0) on every machine`
        : undefined),
  }),
  nodeRank: int({
    label: 'This machine',
    name: 'node-rank',
    group: 'backend',
    api: false,
    valueName: 'R',
    help: "pytorch under torchrun: this machine's place, 0 to nnodes - 1 (node 0 holds rank 0)",
    min: 0,
    check: (o) =>
      pytorchOnly(o) ??
      ((o.nodeRank as number) >= ((o.nnodes as number | undefined) ?? 1)
        ? `must be below --nnodes (${(o.nnodes as number | undefined) ?? 1}), got ${o.nodeRank}`
        : undefined),
  }),
  rdzvEndpoint: text({
    label: 'Rendezvous',
    name: 'rdzv-endpoint',
    group: 'backend',
    api: false,
    valueName: 'HOST:PORT',
    help: 'pytorch under torchrun: where node 0 meets the others (its address and a free port)',
    check: (o) =>
      pytorchOnly(o) ??
      (/^(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9.-]+):\d{1,5}$/.test(o.rdzvEndpoint as string)
        ? undefined
        : `must be host:port (node 0's address and a free port, e.g. 10.0.0.1:29500), got '${o.rdzvEndpoint}'`),
  }),
  layerStatsEvery: int({
    label: 'Layer statistics every',
    name: 'layer statistics interval',
    group: 'run',
    form: false,
    flag: '--layer-stats',
    help: 'emit per-layer activation and gradient statistics every N batches (0: off)',
    min: 0,
  }),
  outDir: text({
    label: 'Run folder',
    group: 'run',
    api: false,
    flag: '--out',
    help: 'run folder (default runs/<name>-<time>)',
    valueName: 'DIR',
  }),
  resume: onOff({
    label: 'Resume',
    group: 'run',
    api: false,
    help: 'continue the run in --out from its checkpoint',
  }),
};

export type TrainingOptionKey = keyof typeof trainingOptions;

/**
 * What a run is asked to do: everything above with a default is set; the
 * others may be absent (the whole dataset, no resize, no run folder).
 */
export type TrainOptions = OptionValues<typeof trainingOptions>;
export type DatasetName = TrainOptions['dataset'];
export type BackendChoice = TrainOptions['backend'];
export type OptimizerName = TrainOptions['optimizer'];
export type ScheduleName = TrainOptions['schedule'];
export type InitScheme = TrainOptions['init'];

type KeysWhere<Mark extends 'stored' | 'api' | 'required'> = {
  [K in TrainingOptionKey]: (typeof trainingOptions)[K][Mark] extends true ? K : never;
}[TrainingOptionKey];

/** The project's `training` section: the options a project keeps (the others are chosen per run). */
export type TrainingConfig = Pick<TrainOptions, KeysWhere<'stored'>>;
/** The project file's `training` section: defaults filled in when it is read. */
export const trainingConfigSchema = objectSchema(trainingOptions, 'stored') as unknown as z.ZodType<
  TrainingConfig,
  Partial<TrainingConfig>
>;
/** What the UI may ask for when it starts a run (host-owned options such as the run folder excluded). */
export const trainOptionsRequestSchema = objectSchema(
  trainingOptions,
  'api',
) as unknown as z.ZodType<Partial<Pick<TrainOptions, KeysWhere<'api'>>>>;

/** Every option's default (those that have one). */
export const defaultTrainOptions = defaultsOf(trainingOptions) as Pick<
  TrainOptions,
  KeysWhere<'required'>
>;

/** Options that fail validation, with every problem; `describe` words them for the caller. */
export class TrainOptionsError extends Error {
  constructor(readonly issues: OptionIssue[]) {
    super(describeOptionIssues(issues, (key) => trainingOptions[key as TrainingOptionKey].name));
    this.name = 'TrainOptionsError';
  }
}

/** "learning rate must be a number > 0, got -1; epochs …", naming each option as `nameOf` says. */
export function describeOptionIssues(
  issues: OptionIssue[],
  nameOf: (key: string) => string,
): string {
  return issues.map((i) => `${nameOf(i.key)} ${i.problem}`).join('; ');
}

/**
 * Checks options (all of them, or only those given with `partial`) and the
 * rules between them; throws a TrainOptionsError naming every problem.
 */
export function checkTrainOptions(
  options: Partial<TrainOptions>,
  { partial = false }: { partial?: boolean } = {},
): void {
  const issues = optionIssues(trainingOptions, options, !partial);
  if (issues.length > 0) throw new TrainOptionsError(issues);
}

/**
 * A run's options: the defaults, then the project's training settings, then
 * the caller's overrides (command-line flags, the dashboard's form; undefined
 * and empty ones left out). Checked, so a mistake is reported before any data is loaded.
 */
export function resolveTrainOptions(
  project: Pick<Project, 'training'>,
  overrides: Partial<TrainOptions> = {},
): TrainOptions {
  // An empty text (a data folder) is not set, as absent.
  const set = ([, value]: [string, unknown]) => value !== undefined && value !== '';
  const stored = Object.entries(project.training ?? {}).filter(
    (entry) => set(entry) && trainingOptions[entry[0] as TrainingOptionKey]?.stored,
  );
  const given = Object.entries(overrides).filter(set);
  const options = {
    ...defaultTrainOptions,
    ...Object.fromEntries(stored),
    ...Object.fromEntries(given),
  } as TrainOptions;
  checkTrainOptions(options);
  return options;
}

/**
 * How options that a resumed run must keep differ from the ones it was
 * started with: one sentence per option, empty when it may resume.
 */
export function resumeConflicts(
  started: Partial<TrainOptions>,
  now: Partial<TrainOptions>,
): string[] {
  return (Object.entries(trainingOptions) as [TrainingOptionKey, OptionField][])
    .filter(
      ([key, field]) =>
        field.keptOnResume && JSON.stringify(started[key]) !== JSON.stringify(now[key]),
    )
    .map(
      ([key, field]) =>
        `${field.name} was ${shownValue(started[key])} and is ${shownValue(now[key])} now`,
    );
}

const shownValue = (value: unknown) =>
  value === undefined ? 'not set' : Array.isArray(value) ? value.join('×') : String(value);
