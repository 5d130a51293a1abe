/**
 * What every web page of the app may not do (Electron's security checklist):
 * navigate or be redirected away from the studio, open windows, attach a
 * <webview>, or be granted any permission. The studio uses none (no camera,
 * notifications, clipboard reading, devices…), so every permission request and
 * check is refused. The decisions are origins.ts's; this only wires them.
 */
import type { Session, WebContents } from 'electron';

export function guardWebContents(
  contents: WebContents,
  isStudioPage: (url: string | undefined) => boolean,
): void {
  const stayInStudio = (event: { url: string; preventDefault(): void }) => {
    if (!isStudioPage(event.url)) event.preventDefault();
  };
  contents.on('will-navigate', stayInStudio);
  contents.on('will-frame-navigate', stayInStudio);
  contents.on('will-redirect', stayInStudio);
  contents.on('will-attach-webview', (event) => event.preventDefault());
  contents.setWindowOpenHandler(() => ({ action: 'deny' }));
}

export function refusePermissions(session: Session): void {
  session.setPermissionRequestHandler((_contents, _permission, callback) => callback(false));
  session.setPermissionCheckHandler(() => false);
  session.setDevicePermissionHandler(() => false);
}
