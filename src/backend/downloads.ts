/**
 * The files behind a download (api/downloads.ts), found in the workspace and
 * confined to it: a run's weights, or the plain files of an export folder
 * (links and sub-folders are left out, so a zip never reaches outside it).
 */
import { existsSync } from 'node:fs';
import { readdir } from 'node:fs/promises';
import path from 'node:path';
import type { DownloadRequest } from '../api/downloads';
import { RUN_WEIGHTS_FILE } from '../exporters/node-io';
import { confinePath } from '../node/confined-path';
import { workspaceConfinement } from '../node/workspace';
import { runPathOf } from './run-folders';

export type Download =
  | { kind: 'file'; name: string; file: string }
  | { kind: 'zip'; name: string; folder: string; files: string[] };

/** What a download request names, or an Error saying why it cannot be had. */
export async function findDownload(workspace: string, request: DownloadRequest): Promise<Download> {
  const area = workspaceConfinement(workspace);
  if (request.kind === 'weights') {
    const dir = runPathOf(workspace, request, request.runId);
    const file = path.join(dir, RUN_WEIGHTS_FILE);
    if (!existsSync(file)) {
      throw new Error(`run ${request.runId} has no ${RUN_WEIGHTS_FILE} (it saved no weights yet)`);
    }
    return { kind: 'file', name: `${request.runId}-${RUN_WEIGHTS_FILE}`, file };
  }
  const folder = confinePath(request.folder, area);
  let entries: import('node:fs').Dirent[];
  try {
    entries = await readdir(folder, { withFileTypes: true });
  } catch {
    throw new Error(`there is no export folder ${request.folder} in the workspace`);
  }
  const files = entries
    .filter((entry) => entry.isFile() && !entry.name.startsWith('.'))
    .map((entry) => entry.name)
    .sort();
  if (files.length === 0)
    throw new Error(`the folder ${request.folder} holds no files to download`);
  return { kind: 'zip', name: `${path.basename(folder)}.zip`, folder, files };
}
