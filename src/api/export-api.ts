/** Export methods of StudioApi (see studio-api.ts). */
// biome-ignore lint/suspicious/noEmptyInterface: filled in as the export features land
export interface ExportApi {}
