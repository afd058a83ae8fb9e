/** The rows an UPDATE or DELETE … RETURNING gave back (TypeORM answers those with `[rows, count]`). */
export function returned<T>(result: unknown): T[] {
  const pair = result as [T[], number];
  return Array.isArray(result) && result.length === 2 && Array.isArray(pair[0]) && typeof pair[1] === 'number' ? pair[0] : (result as T[]);
}
