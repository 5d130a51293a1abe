/**
 * The StudioApi implementation both hosts serve: each area's service, combined
 * method by method. A host creates one backend per window (Electron) or per
 * process (web host) and forwards calls to it through dispatch.ts.
 */
import { fail } from '../api/result';
import { type StudioApi, type StudioPush, studioMethods } from '../api/studio-api';
import { EvaluationService } from './evaluation-service';
import { ExportService } from './export-service';
import { builtInPresets } from './presets';
import { ProjectService, type ProjectServiceOptions } from './project-service';
import { TrainingRunsService } from './training-runs-service';

export interface BackendOptions extends Omit<ProjectServiceOptions, 'presets'> {
  /** Dataset folders training may read besides the workspace (every --data-dir). */
  dataDirs?: string[];
  /** Sends an event to the UI (training progress). */
  push(event: StudioPush): void;
}

export function createStudioBackend(options: BackendOptions): StudioApi {
  const services: object[] = [
    new ProjectService({ ...options, presets: builtInPresets }),
    new TrainingRunsService(options),
    new EvaluationService(options),
    new ExportService(options),
  ];
  return combineServices(services);
}

/**
 * One object with every StudioApi method, taken from the first service that has
 * it. A method no service provides answers with a clear failure instead of
 * leaving the UI waiting.
 */
export function combineServices(services: object[]): StudioApi {
  const api: Record<string, unknown> = {};
  for (const method of studioMethods) {
    const owner = services.find(
      (s) => typeof (s as Record<string, unknown>)[method] === 'function',
    ) as Record<string, (...args: unknown[]) => unknown> | undefined;
    api[method] = owner
      ? owner[method].bind(owner)
      : async () => fail(`${method} is not available in this host`);
  }
  return api as unknown as StudioApi;
}
