/**
 * What the web host lets a browser download, and the addresses of those
 * downloads: an export folder as one zip, and a run's trained weights. Paths
 * are relative to the workspace (the host confines them); the access token
 * travels in the address, as it does for the page.
 */
export const DOWNLOAD_PATH = '/download';
export const TOKEN_PARAMETER = 'token';

export type DownloadRequest =
  /** Every file of an export folder, as a zip named after the folder. */
  | { kind: 'export'; folder: string }
  /** weights.safetensors of a run of the project saved at `projectPath`. */
  | { kind: 'weights'; projectPath?: string; runId: string };

/** The address of a download, relative to the page (so it works behind any prefix). */
export function downloadHref(request: DownloadRequest, token: string | null): string {
  const query = new URLSearchParams();
  query.set('kind', request.kind);
  if (request.kind === 'export') query.set('folder', request.folder);
  else {
    if (request.projectPath) query.set('project', request.projectPath);
    query.set('run', request.runId);
  }
  if (token) query.set(TOKEN_PARAMETER, token);
  return `.${DOWNLOAD_PATH}?${query}`;
}

/** The download an address asks for, or why it is not one. */
export function parseDownload(query: URLSearchParams): DownloadRequest | { error: string } {
  const kind = query.get('kind');
  if (kind === 'export') {
    const folder = query.get('folder');
    return folder ? { kind, folder } : { error: 'an export download names its folder' };
  }
  if (kind === 'weights') {
    const runId = query.get('run');
    if (!runId) return { error: 'a weights download names its run' };
    return { kind, runId, projectPath: query.get('project') ?? undefined };
  }
  return { error: `unknown download '${kind}'; ask for kind=export or kind=weights` };
}
