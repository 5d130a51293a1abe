/**
 * StudioApi: the one typed API between the UI and a host (Electron's preload
 * bridge, or the web host's WebSocket). Each area declares its methods in its
 * own module; hosts forward any method generically, so adding a method means
 * declaring it there and implementing it in src/backend.
 */
import type { ExportApi } from './export-api';
import type { ProjectApi } from './project-api';
import type { TrainingApi } from './training-api';

export interface StudioApi extends ProjectApi, TrainingApi, ExportApi {}

export type StudioMethod = keyof StudioApi;

/** Pushed from host to UI without a request (training progress, file changes). */
export type StudioPush = {
  channel: 'training';
  runId: string;
  payload: import('../engine/protocol').TrainingEvent;
};
