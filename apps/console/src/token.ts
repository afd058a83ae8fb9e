/**
 * Reading a token from the page's fragment (`/console#token=…`): the fragment never leaves the
 * browser, and the console removes it from the address bar once read.
 */
export function tokenFromFragment(hash: string): { token: string | null; rest: string } {
  const params = new URLSearchParams(hash.replace(/^#/, ''));
  const token = params.get('token');
  params.delete('token');
  const rest = params.toString();
  return { token: token && token.trim() ? token.trim() : null, rest: rest ? `#${rest}` : '' };
}
