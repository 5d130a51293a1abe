/**
 * The renderer's entry. The StudioApi is injected here and nowhere else: the
 * Electron preload puts it on window.studio; in a browser it is a WebSocket
 * client of the web host that served this page.
 */
import '@xyflow/react/dist/style.css';
import './styles.css';
import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { TOKEN_PARAMETER } from '../api/downloads';
import type { StudioClient } from '../api/studio-api';
import { ApiContext } from './api/context';
import { connectWebSocket } from './api/ws-client';
import { App } from './app/App';
import { useStudio } from './state/store';

declare global {
  interface Window {
    /** Set by the Electron preload bridge. */
    studio?: StudioClient;
  }
}

async function connect(): Promise<StudioClient> {
  if (window.studio) return window.studio;
  // The web host's access token came in the page's address; the API needs it too.
  const url = new URL('api', window.location.href);
  url.protocol = url.protocol === 'https:' ? 'wss:' : 'ws:';
  url.search = '';
  const token = new URLSearchParams(window.location.search).get(TOKEN_PARAMETER);
  if (token) url.searchParams.set(TOKEN_PARAMETER, token);
  return connectWebSocket(url.href, () =>
    useStudio.getState().showNotice({
      kind: 'error',
      title: 'Lost the connection to the studio host',
      lines: [
        'Restart it (convnet-studio serve) and reload this page. Edits up to the last autosave (every 3 s) are offered back when the page opens again.',
      ],
    }),
  );
}

const root = createRoot(document.getElementById('root')!);
connect().then(
  (api) =>
    root.render(
      <StrictMode>
        <ApiContext.Provider value={api}>
          <App />
        </ApiContext.Provider>
      </StrictMode>,
    ),
  (err: Error) =>
    root.render(
      <div className="fatal" role="alert">
        <h1>ConvNet Studio cannot start</h1>
        <p>{err.message}</p>
      </div>,
    ),
);
