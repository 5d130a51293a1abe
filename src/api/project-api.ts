/** Project methods of StudioApi (see studio-api.ts). */
// biome-ignore lint/suspicious/noEmptyInterface: filled in as the project features land
export interface ProjectApi {}
