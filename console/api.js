// The worker's REST API, from the page's own origin: the browser sends the credentials it logged in with
// (basic auth), so every call has exactly the permissions of the REST API.

export class ApiError extends Error {
  constructor(status, message) {
    super(message);
    this.status = status;
  }
}

export async function api(path, { method = 'GET', body } = {}) {
  const res = await fetch(path, {
    method,
    headers:
      body === undefined
        ? { Accept: 'application/json' }
        : { Accept: 'application/json', 'Content-Type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
    credentials: 'same-origin',
  });
  const text = await res.text();
  let data = null;
  try {
    data = text ? JSON.parse(text) : null;
  } catch {
    data = text;
  }
  if (!res.ok) {
    const message = data && typeof data === 'object' && 'message' in data ? data.message : `HTTP ${res.status}`;
    throw new ApiError(res.status, message);
  }
  return data;
}

/** Query string from an object, leaving out empty values. */
export function qs(params) {
  const p = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== null && v !== '') p.set(k, String(v));
  const s = p.toString();
  return s ? `?${s}` : '';
}

/** The customers (i15a's endpoint); null when this worker does not have it. */
export async function customers() {
  try {
    return await api('/erpstream/v1/customers');
  } catch (e) {
    if (e.status === 404) return null;
    throw e;
  }
}
