/** Minimal HTTP client for the smoke checks (node's fetch, with a timeout per request). */
export interface HttpResult {
  status: number;
  body: string;
  ms: number;
}

export async function request(url: string, init: { method?: string; body?: unknown; timeoutMs?: number } = {}): Promise<HttpResult> {
  const started = Date.now();
  const res = await fetch(url, {
    method: init.method ?? 'GET',
    headers: init.body === undefined ? undefined : { 'content-type': 'application/json' },
    body: init.body === undefined ? undefined : JSON.stringify(init.body),
    signal: AbortSignal.timeout(init.timeoutMs ?? 5000),
  });
  const body = await res.text();
  return { status: res.status, body, ms: Date.now() - started };
}

export function json<T>(r: HttpResult, what: string): T {
  try {
    return JSON.parse(r.body) as T;
  } catch {
    throw new Error(`${what}: expected JSON, got ${JSON.stringify(r.body.slice(0, 120))}`);
  }
}
