/**
 * StudioApi: the one typed API between the UI and a host (Electron's preload
 * bridge, or the web host's WebSocket). Each area declares its methods in its
 * own module; hosts forward any method generically, so adding a method means
 * declaring it there and implementing it in src/backend.
 */
import { type EvaluationApi, evaluationMethodArgs } from './evaluation-api';
import { type ExportApi, exportMethodArgs } from './export-api';
import type { MethodArgs } from './method-args';
import { type ProjectApi, projectMethodArgs } from './project-api';
import { type TrainingApi, trainingMethodArgs } from './training-api';

export interface StudioApi extends ProjectApi, TrainingApi, EvaluationApi, ExportApi {}

export type StudioMethod = keyof StudioApi;

/** Every method's argument schema: the hosts' validation and the bridge's method list. */
export const studioMethodArgs: MethodArgs<StudioApi> = {
  ...projectMethodArgs,
  ...trainingMethodArgs,
  ...evaluationMethodArgs,
  ...exportMethodArgs,
};

export const studioMethods = Object.keys(studioMethodArgs) as StudioMethod[];

/** What the renderer is given at boot: the API plus a subscription to pushes. Returns an unsubscribe. */
export interface StudioClient extends StudioApi {
  onPush(listener: (push: StudioPush) => void): () => void;
}

/** The wire format shared by the web host (WebSocket) and Electron (IPC). */
export interface StudioCall {
  id: number;
  method: string;
  args: unknown[];
}

/** Pushed from host to UI without a request (training and evaluation progress). */
export type StudioPush =
  | {
      channel: 'training';
      runId: string;
      payload: import('./training-protocol').TrainingEvent;
    }
  | {
      channel: 'evaluation';
      /** Test images classified so far, of `total`. */
      payload: { done: number; total: number };
    };
