/** The platform's HTTP API, with the signed-in token sent only as the Authorization header. */
export class ApiError extends Error {
  constructor(readonly status: number, message: string) {
    super(message);
  }
}

export class Api {
  constructor(private readonly token: string, private readonly base = '/api/v1') {}

  get eventsUrl(): string {
    return `${this.base}/events`;
  }

  get bearer(): string {
    return this.token;
  }

  get<T>(path: string): Promise<T> {
    return this.request<T>('GET', path);
  }

  post<T>(path: string, body?: object): Promise<T> {
    return this.request<T>('POST', path, body);
  }

  private async request<T>(method: string, path: string, body?: object): Promise<T> {
    const headers: Record<string, string> = { Authorization: `Bearer ${this.token}`, Accept: 'application/json' };
    if (body) headers['Content-Type'] = 'application/json';
    let res: Response;
    try {
      res = await fetch(this.base + path, { method, headers, body: body ? JSON.stringify(body) : undefined, cache: 'no-store' });
    } catch {
      throw new ApiError(0, 'The platform cannot be reached: check the network and try again');
    }
    const text = await res.text();
    let json: unknown = null;
    try {
      json = text ? JSON.parse(text) : null;
    } catch {
      /* not JSON */
    }
    if (!res.ok) {
      const message = (json as { message?: unknown } | null)?.message;
      throw new ApiError(res.status, Array.isArray(message) ? message.join('; ') : typeof message === 'string' ? message : `HTTP ${res.status}`);
    }
    return json as T;
  }
}
