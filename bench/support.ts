/** A JSON client of the service under test: `call(method, path, token, body?)`, throwing on any non-2xx. */
export function apiCaller(origin: string) {
  return async function call(method: string, url: string, token: string, body?: unknown) {
    const res = await fetch(origin + url, {
      method,
      headers: { Authorization: `Bearer ${token}`, ...(body ? { 'Content-Type': 'application/json' } : {}) },
      body: body ? JSON.stringify(body) : undefined,
    });
    if (!res.ok) throw new Error(`${method} ${url}: ${res.status} ${await res.text()}`);
    return res.json() as Promise<any>;
  };
}
