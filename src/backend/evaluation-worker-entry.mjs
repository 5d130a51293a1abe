// Starts the evaluation worker from the TypeScript sources: a worker thread does
// not inherit the tsx loader of the thread that created it, so it registers it.
import { register } from 'tsx/esm/api';

register();
await import('./evaluation-worker.ts');
