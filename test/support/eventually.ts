/**
 * Polls an observable state through the public API until it holds (for state the platform updates
 * asynchronously, such as a device's connection flag). Fails with the last value seen.
 */
export async function eventually<T>(read: () => Promise<T>, holds: (value: T) => boolean, timeoutMs = 5000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let value = await read();
  while (!holds(value)) {
    if (Date.now() > deadline) throw new Error(`condition not met within ${timeoutMs} ms; last value: ${JSON.stringify(value)}`);
    await new Promise((resolve) => setImmediate(resolve));
    value = await read();
  }
  return value;
}
