/**
 * A minimal client of the platform's HTTP API (CONTRACT §4): JSON bodies, bearer token, errors
 * that carry the HTTP status and the server's own message.
 */

export class ApiError extends Error {
  constructor(
    message: string,
    /** HTTP status, or null when no response came (unreachable, timeout). */
    readonly status: number | null,
    readonly body?: unknown,
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

export type FetchLike = (input: string, init: RequestInit) => Promise<Response>;

export interface ApiCall<T> {
  body: T;
  status: number;
  /** Request → response, milliseconds. */
  ms: number;
}

export class ApiClient {
  private readonly endpoints: readonly string[];
  private current = 0;

  /**
   * `baseUrl`: one platform, or several nodes of one (in order of preference): a request that
   * cannot reach the current node is sent to the next one, which then stays current.
   */
  constructor(
    baseUrl: string | readonly string[],
    private readonly token: string,
    private readonly options: { timeoutMs?: number; fetch?: FetchLike } = {},
  ) {
    this.endpoints = typeof baseUrl === 'string' ? [baseUrl] : [...baseUrl];
    if (this.endpoints.length === 0) throw new RangeError('ApiClient needs a base URL');
  }

  /** The node requests go to now. */
  get baseUrl(): string {
    return this.endpoints[this.current]!;
  }

  /** The current node is gone (e.g. its event stream broke): use the next one. */
  failover(): void {
    this.current = (this.current + 1) % this.endpoints.length;
  }

  post<T = unknown>(path: string, body: unknown): Promise<ApiCall<T>> {
    return this.request<T>('POST', path, body);
  }

  get<T = unknown>(path: string): Promise<ApiCall<T>> {
    return this.request<T>('GET', path);
  }

  async request<T>(method: string, path: string, body?: unknown): Promise<ApiCall<T>> {
    for (let tried = 1; ; tried++) {
      try {
        return await this.requestOnce<T>(method, path, body);
      } catch (error) {
        // an unreachable node (killed, restarting): the next one, until each was tried once
        if (!(error instanceof ApiError) || error.status !== null || tried >= this.endpoints.length) throw error;
        this.failover();
      }
    }
  }

  private async requestOnce<T>(method: string, path: string, body?: unknown): Promise<ApiCall<T>> {
    const url = `${this.baseUrl.replace(/\/+$/, '')}${path}`;
    const what = `${method} ${path}`;
    const doFetch = this.options.fetch ?? fetch;
    const started = performance.now();
    let response: Response;
    try {
      response = await doFetch(url, {
        method,
        headers: {
          authorization: `Bearer ${this.token}`,
          accept: 'application/json',
          ...(body === undefined ? {} : { 'content-type': 'application/json' }),
        },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
        signal: AbortSignal.timeout(this.options.timeoutMs ?? 10_000),
      });
    } catch (error) {
      throw new ApiError(`${what}: cannot reach ${this.baseUrl}: ${describeFetchError(error)}`, null);
    }
    const text = await response.text().catch(() => '');
    const ms = performance.now() - started;
    const parsed = parseJson(text);
    if (!response.ok) {
      const message = serverMessage(parsed) ?? (text.trim().slice(0, 200) || response.statusText);
      throw new ApiError(`${what}: HTTP ${response.status}: ${message}`, response.status, parsed);
    }
    return { body: parsed as T, status: response.status, ms };
  }
}

/**
 * POST that outlasts a platform restarting or a node going away: tried again every 500 ms while no
 * answer comes or the answer is a 5xx, up to 20 times, until `stopped()`. True once answered 2xx;
 * false on a refusal (a 4xx) or after the last try, whose message is added to `errors` — not when
 * it was stopped.
 */
export async function postPatiently(api: ApiClient, path: string, body: unknown, errors: string[], stopped: () => boolean): Promise<boolean> {
  let last: ApiError | undefined;
  for (let attempt = 0; attempt < 20 && !stopped(); attempt++) {
    try {
      await api.post(path, body);
      return true;
    } catch (error) {
      if (!(error instanceof ApiError)) throw error;
      if (error.status !== null && error.status < 500) {
        errors.push(error.message);
        return false;
      }
      last = error;
      await new Promise((r) => setTimeout(r, 500));
    }
  }
  if (last && !stopped()) errors.push(`${last.message} (gave up after 20 tries)`);
  return false;
}

/** NestJS errors are `{statusCode, message, error}`; `message` may be a list (validation). */
export function serverMessage(body: unknown): string | undefined {
  if (typeof body !== 'object' || body === null) return undefined;
  const message = (body as { message?: unknown }).message;
  if (typeof message === 'string') return message;
  if (Array.isArray(message)) return message.map(String).join('; ');
  return undefined;
}

function parseJson(text: string): unknown {
  if (text === '') return undefined;
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

function describeFetchError(error: unknown): string {
  if (error instanceof Error) {
    if (error.name === 'TimeoutError') return 'no response in time';
    const cause = (error as { cause?: { code?: string; message?: string } }).cause;
    return cause?.code ?? cause?.message ?? error.message;
  }
  return String(error);
}
