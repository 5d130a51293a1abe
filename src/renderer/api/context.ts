/** The StudioApi the renderer was given at boot, for every component. */
import { createContext, useContext } from 'react';
import type { StudioClient } from '../../api/studio-api';

export const ApiContext = createContext<StudioClient | null>(null);

export function useApi(): StudioClient {
  const api = useContext(ApiContext);
  if (!api) throw new Error('useApi outside <ApiContext.Provider>');
  return api;
}
