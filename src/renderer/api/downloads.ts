/**
 * Download links for the web host (an export as a zip, a run's weights),
 * carrying the page's access token. The desktop app has no such links: its
 * files are on this computer already, so this returns null there.
 */
import { type DownloadRequest, downloadHref, TOKEN_PARAMETER } from '../../api/downloads';

export function downloadLink(request: DownloadRequest): string | null {
  if (window.studio) return null;
  return downloadHref(request, new URLSearchParams(window.location.search).get(TOKEN_PARAMETER));
}
