/** Training methods of StudioApi (see studio-api.ts). */
// biome-ignore lint/suspicious/noEmptyInterface: filled in as the training features land
export interface TrainingApi {}
