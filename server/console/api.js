// The one way pages call the admin API: same-origin requests with the session cookie, the
// CSRF token on every state-changing request, and error bodies turned into ApiError (with the
// field at fault, so forms can show it beside that field).
let csrfToken = null;

/** Remembers the session's CSRF token (from POST or GET /v1/session). */
export function setCsrf(token) {
  csrfToken = token;
}

/** An error answer of the API: its HTTP status, stable code, message, field and details. */
export class ApiError extends Error {
  constructor(status, code, message, field, retryAfter, details) {
    super(message);
    this.status = status;
    this.code = code;
    this.field = field || null;
    this.retryAfter = retryAfter || null;
    this.details = details || null;
  }
}

/**
 * Calls the API; answers parsed JSON (null for 204, the Response for other types). A string
 * body is sent as text/plain (a rule script), anything else as JSON; `extra` adds headers
 * (`If-Match`).
 */
export async function api(method, path, body, extra) {
  const headers = { accept: "application/json", ...extra };
  const text = typeof body === "string";
  if (body !== undefined) headers["content-type"] = text ? "text/plain; charset=utf-8" : "application/json";
  if (method !== "GET" && method !== "HEAD" && csrfToken) headers["x-csrf-token"] = csrfToken;
  const res = await fetch(path, {
    method,
    headers,
    credentials: "same-origin",
    body: body === undefined || text ? body : JSON.stringify(body),
  });
  if (!res.ok) {
    let error = {};
    try {
      error = (await res.json()).error || {};
    } catch (_) {}
    const failure = new ApiError(res.status, error.code, error.message || res.statusText, error.field, res.headers.get("retry-after"), error.details);
    if (res.status === 401 && path !== "/v1/session") {
      document.dispatchEvent(new CustomEvent("hirelay:signed-out"));
    }
    throw failure;
  }
  if (res.status === 204) return null;
  const type = res.headers.get("content-type") || "";
  return type.includes("application/json") ? res.json() : res;
}

export const get = (path) => api("GET", path);
export const post = (path, body) => api("POST", path, body);
export const put = (path, body, extra) => api("PUT", path, body, extra);
export const patch = (path, body) => api("PATCH", path, body);
export const del = (path) => api("DELETE", path);
