#!/usr/bin/env node
// Runs the TypeScript sources directly through tsx, so the command line always
// matches the checkout without a build step.
import { register } from 'tsx/esm/api';

register();
await import('../src/cli/main.ts');
