// The REST API of this same origin: JSON in, JSON out, errors as ApiError with `detail`.

const TOKEN_KEY = "ev_charging_system.apiToken";
const listeners = new Set();

export function getToken() {
  try {
    return localStorage.getItem(TOKEN_KEY) || "";
  } catch {
    return "";
  }
}

export function setToken(token) {
  try {
    if (token) localStorage.setItem(TOKEN_KEY, token);
    else localStorage.removeItem(TOKEN_KEY);
  } catch {
    // Private mode without storage: the token lives until the page is closed.
  }
  for (const listener of listeners) listener(Boolean(token));
}

export function onTokenChange(listener) {
  listeners.add(listener);
}

export class ApiError extends Error {
  constructor(status, detail, path) {
    super(detail);
    this.name = "ApiError";
    this.status = status;
    this.detail = detail;
    this.path = path;
  }

  /** A short headline for the HTTP status, shown above the API's own `detail`. */
  get title() {
    switch (this.status) {
      case 0:
        return "API unreachable";
      case 401:
        return "Not authorised (401)";
      case 403:
        return "Forbidden (403)";
      case 404:
        return "Not found (404)";
      case 409:
        return "Conflict (409)";
      case 422:
        return "Invalid input (422)";
      default:
        return this.status >= 500 ? `Server error (${this.status})` : `Error ${this.status}`;
    }
  }

  get hint() {
    if (this.status === 401) return "Set the operator API token with the button at the top right.";
    return "";
  }
}

/** FastAPI's `detail`: a string, or for 422 a list of {loc, msg}; always a readable string. */
export function formatDetail(detail) {
  if (typeof detail === "string") return detail;
  if (Array.isArray(detail)) {
    return detail
      .map((item) => {
        if (item && typeof item === "object" && "msg" in item) {
          const where = (item.loc || []).filter((part) => part !== "body").join(" → ");
          return where ? `${where}: ${item.msg}` : String(item.msg);
        }
        return JSON.stringify(item);
      })
      .join("\n");
  }
  if (detail === undefined || detail === null) return "";
  return JSON.stringify(detail);
}

function url(path, query) {
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(query || {})) {
    if (value === undefined || value === null || value === "") continue;
    params.set(key, String(value));
  }
  const search = params.toString();
  return search ? `${path}?${search}` : path;
}

/** Call the API. Writes carry the operator token when one is set. */
export async function api(method, path, { query, body, signal } = {}) {
  const headers = { Accept: "application/json" };
  const init = { method, headers, signal, cache: "no-store", credentials: "same-origin" };
  if (body !== undefined) {
    headers["Content-Type"] = "application/json";
    init.body = JSON.stringify(body);
  }
  const token = getToken();
  if (token && method !== "GET") headers.Authorization = `Bearer ${token}`;
  let response;
  try {
    response = await fetch(url(path, query), init);
  } catch (error) {
    if (error && error.name === "AbortError") throw error;
    throw new ApiError(0, "The API did not answer. Is the server running?", path);
  }
  if (response.status === 204) return null;
  const text = await response.text();
  let data = null;
  if (text) {
    try {
      data = JSON.parse(text);
    } catch {
      data = null;
    }
  }
  if (!response.ok) {
    const detail = data && "detail" in data ? formatDetail(data.detail) : text.slice(0, 300);
    throw new ApiError(response.status, detail || response.statusText, path);
  }
  return data;
}

export const get = (path, query) => api("GET", path, { query });
export const post = (path, body) => api("POST", path, { body });
export const put = (path, body) => api("PUT", path, { body });
export const patch = (path, body) => api("PATCH", path, { body });
export const del = (path) => api("DELETE", path);

export const enc = encodeURIComponent;

/**
 * Check a token without changing anything: PATCH of an id tag that does not exist with an
 * empty body answers 401 for a wrong token and 404 for a right one.
 */
export async function verifyToken(token) {
  const response = await fetch("/api/id-tags/~token-check~", {
    method: "PATCH",
    headers: {
      Accept: "application/json",
      "Content-Type": "application/json",
      Authorization: `Bearer ${token}`,
    },
    body: "{}",
    cache: "no-store",
  });
  return response.status !== 401;
}
