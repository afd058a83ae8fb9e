/** Who is asking: the administrator sees everything, an integration only its own CIC (CONTRACT §4). */
export type Scope =
  | { readonly kind: 'admin' }
  | { readonly kind: 'integration'; readonly integrationId: string; readonly cicId: string }
  /** The platform itself (automatic steps: closing a delivered self-test, escalation). */
  | { readonly kind: 'platform' };

export function actorOf(scope: Scope): string {
  return scope.kind === 'integration' ? `integration:${scope.integrationId}` : scope.kind;
}
