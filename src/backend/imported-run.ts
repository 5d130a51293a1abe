/**
 * Weights trained in PyTorch as a run of their project, for the import
 * command and the export dialog alike: a new run folder with the project, the
 * weights and a record as training writes one, so the Runs list, evaluation
 * and export take it.
 */
import path from 'node:path';
import { resolveTrainOptions } from '../core/training/options';
import { createRunFolder, writeRunRecord } from '../engine/run/folder';
import type { ImportedModel } from '../exporters/import-graph';
import { writeProjectWithWeights } from '../exporters/node-io';

/** Writes the run as `parent/name` (never over one that exists: `name-2` then); returns its folder. */
export async function writeImportedRun(
  parent: string,
  name: string,
  imported: ImportedModel,
): Promise<string> {
  const dir = createRunFolder(parent, name);
  writeProjectWithWeights(dir, imported.project, imported.weights);
  await writeRunRecord(dir, {
    id: path.basename(dir),
    projectName: imported.project.name,
    startedAt: new Date().toISOString(),
    status: 'done',
    options: resolveTrainOptions(imported.project),
    backend: 'PyTorch (imported weights)',
  });
  return dir;
}
