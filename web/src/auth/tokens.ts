/**
 * The access token, in memory only: never in localStorage or a readable cookie, so a script
 * injected into the page cannot carry it away beyond this tab's life. The refresh token is an
 * httpOnly cookie the gateway sets (see gateway/src/portal_gateway/browser_session.py).
 */
type Listener = (token: string | null) => void;

let current: string | null = null;
const listeners = new Set<Listener>();

export const tokens = {
  access(): string | null {
    return current;
  },
  set(token: string | null): void {
    current = token;
    for (const listener of listeners) listener(token);
  },
  subscribe(listener: Listener): () => void {
    listeners.add(listener);
    return () => listeners.delete(listener);
  },
};
