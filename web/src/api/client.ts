// The one way the portal calls the API. Same-origin fetch with the session cookie; on a
// state-changing call the CSRF token is copied from its cookie into X-Octopus-Csrf-Token, as
// Octopus's own clients do (reference-octopus-portal-security.md B.1). A failure becomes an
// ApiError whose message is the API's ErrorMessage, so pages show what the server said.

export const CSRF_COOKIE_PREFIX = 'Octopus-Csrf-Token';
export const CSRF_HEADER = 'X-Octopus-Csrf-Token';

export class ApiError extends Error {
  readonly status: number;
  readonly details: string[];
  constructor(status: number, message: string, details: string[] = []) {
    super(message);
    this.name = 'ApiError';
    this.status = status;
    this.details = details;
  }
}

// The CSRF cookie's value. Octopus names it with an installation suffix
// (`Octopus-Csrf-Token_<InstallationId>`), so it is found by prefix.
export function csrfToken(cookies: string = document.cookie): string | undefined {
  for (const part of cookies.split(';')) {
    const eq = part.indexOf('=');
    if (eq < 0) continue;
    const name = part.slice(0, eq).trim();
    if (name === CSRF_COOKIE_PREFIX || name.startsWith(CSRF_COOKIE_PREFIX + '_')) {
      return decodeURIComponent(part.slice(eq + 1).trim());
    }
  }
  return undefined;
}

// Called on every 401 outside sign-in: the session is gone (expired, signed out elsewhere).
type Listener = () => void;
const unauthorizedListeners = new Set<Listener>();
export function onUnauthorized(listener: Listener): () => void {
  unauthorizedListeners.add(listener);
  return () => unauthorizedListeners.delete(listener);
}

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

export interface RequestOptions {
  body?: unknown;
  signal?: AbortSignal;
  // Sent as If-None-Match; a 304 then answers `notModified`.
  etag?: string;
  // A 401 here is an answer for the caller (sign-in), not a lost session.
  expectUnauthorized?: boolean;
}

export type Fetched<T> =
  | { notModified: true; etag?: string }
  | { notModified: false; data: T; etag?: string };

async function errorFrom(response: Response): Promise<ApiError> {
  const text = await response.text().catch(() => '');
  try {
    const body = JSON.parse(text) as { ErrorMessage?: unknown; Errors?: unknown };
    if (typeof body.ErrorMessage === 'string' && body.ErrorMessage !== '') {
      const details = Array.isArray(body.Errors) ? body.Errors.filter((e): e is string => typeof e === 'string') : [];
      return new ApiError(response.status, body.ErrorMessage, details);
    }
  } catch {
    // not JSON: fall through to the status line
  }
  const reason = response.statusText || 'request failed';
  return new ApiError(response.status, `The server answered ${response.status} (${reason}).`);
}

export async function request<T>(method: string, path: string, options: RequestOptions = {}): Promise<Fetched<T>> {
  const headers: Record<string, string> = { Accept: 'application/json' };
  if (options.body !== undefined) headers['Content-Type'] = 'application/json';
  if (!SAFE_METHODS.has(method.toUpperCase())) {
    const token = csrfToken();
    if (token) headers[CSRF_HEADER] = token;
  }
  if (options.etag) headers['If-None-Match'] = options.etag;
  let response: Response;
  try {
    response = await fetch(path, {
      method,
      headers,
      credentials: 'same-origin',
      // Conditional requests are ours to make: the browser cache must not answer for the server.
      cache: 'no-store',
      body: options.body === undefined ? undefined : JSON.stringify(options.body),
      signal: options.signal,
    });
  } catch (e) {
    if (e instanceof DOMException && e.name === 'AbortError') throw e;
    throw new ApiError(0, 'The server could not be reached. Check your connection and try again.');
  }
  const etag = response.headers.get('ETag') ?? undefined;
  if (response.status === 304) return { notModified: true, etag };
  if (!response.ok) {
    if (response.status === 401 && !options.expectUnauthorized) {
      unauthorizedListeners.forEach((l) => l());
    }
    throw await errorFrom(response);
  }
  const text = await response.text();
  const data = (text === '' ? undefined : JSON.parse(text)) as T;
  return { notModified: false, data, etag };
}

async function call<T>(method: string, path: string, options?: RequestOptions): Promise<T> {
  const r = await request<T>(method, path, options);
  if (r.notModified) throw new ApiError(304, 'Not modified.');
  return r.data;
}

export const api = {
  get: <T>(path: string, options?: RequestOptions) => call<T>('GET', path, options),
  post: <T>(path: string, body?: unknown, options?: RequestOptions) => call<T>('POST', path, { ...options, body }),
  put: <T>(path: string, body?: unknown, options?: RequestOptions) => call<T>('PUT', path, { ...options, body }),
  del: <T>(path: string, options?: RequestOptions) => call<T>('DELETE', path, options),
};

// Any failure as an ApiError: the API's own as it is, anything else (a bug, a network
// failure the fetch did not wrap) with its message and no status.
export function apiErrorOf(e: unknown): ApiError {
  return e instanceof ApiError ? e : new ApiError(0, messageOf(e));
}

export function messageOf(e: unknown): string {
  if (e instanceof ApiError) return e.message;
  if (e instanceof Error) return e.message;
  return String(e);
}
