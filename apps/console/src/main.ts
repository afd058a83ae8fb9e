import { Api, ApiError } from './api.js';
import { ConsoleApp } from './console-app.js';
import { byId } from './dom.js';
import { tokenFromFragment } from './token.js';
import type { Caller } from './types.js';

/**
 * Sign-in. The token is kept in this tab only (sessionStorage), sent only as the Authorization
 * header; `/console#token=…` signs in directly and the token is then removed from the address bar.
 */
const TOKEN_KEY = 'amr.console.token';
let app: ConsoleApp | null = null;

function boot(): void {
  const { token, rest } = tokenFromFragment(location.hash);
  if (token) {
    sessionStorage.setItem(TOKEN_KEY, token);
    history.replaceState(null, '', location.pathname + location.search + rest);
  }
  byId<HTMLFormElement>('sign-in-form').addEventListener('submit', (e) => {
    e.preventDefault();
    const input = byId<HTMLInputElement>('token');
    const value = input.value.trim();
    input.value = '';
    if (value) void signIn(value);
  });
  byId('sign-out').addEventListener('click', () => signOut());
  const stored = sessionStorage.getItem(TOKEN_KEY);
  if (stored) void signIn(stored);
  else showSignIn();
}

async function signIn(token: string): Promise<void> {
  const api = new Api(token);
  let caller: Caller;
  try {
    caller = await api.get<Caller>('/me');
  } catch (err) {
    const known = err instanceof ApiError && err.status === 401;
    if (known) sessionStorage.removeItem(TOKEN_KEY);
    showSignIn(known ? 'That token is not known or has been revoked.' : (err as Error).message);
    return;
  }
  sessionStorage.setItem(TOKEN_KEY, token);
  byId('sign-in').hidden = true;
  byId('nav').hidden = false;
  byId('tools').hidden = false;
  app = new ConsoleApp(api, caller, signOut);
  await app.start().catch((err: Error) => (byId('stream-state').textContent = `Could not load the alarms: ${err.message}`));
}

function signOut(reason?: string): void {
  app?.stop();
  app = null;
  sessionStorage.removeItem(TOKEN_KEY);
  history.replaceState(null, '', location.pathname + location.search);
  showSignIn(reason);
}

function showSignIn(error?: string): void {
  for (const id of ['nav', 'tools', 'view-alarms', 'view-alerts', 'view-admin']) byId(id).hidden = true;
  byId('who').textContent = '';
  byId('sign-in').hidden = false;
  byId('sign-in-error').textContent = error ?? '';
  byId('token').focus();
}

boot();
