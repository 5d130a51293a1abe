import type { MethodArgs } from './method-args';
/** Export methods of StudioApi (see studio-api.ts). */
// biome-ignore lint/suspicious/noEmptyInterface: filled in as the export features land
export interface ExportApi {}

/** Argument schemas of the export methods (one zod tuple each); hosts validate calls against them. */
export const exportMethodArgs = {} satisfies MethodArgs<ExportApi>;
