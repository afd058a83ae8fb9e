/** Who is asking: the administrator sees everything, an integration only its own CIC (CONTRACT §4). */
export type Scope =
  | { readonly kind: 'admin' }
  | { readonly kind: 'integration'; readonly integrationId: string; readonly cicId: string };

export const ADMIN: Scope = { kind: 'admin' };

export function actorOf(scope: Scope): string {
  return scope.kind === 'admin' ? 'admin' : `integration:${scope.integrationId}`;
}
