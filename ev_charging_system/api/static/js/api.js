// The REST API of this same origin: JSON in, JSON out, errors as ApiError with `detail`.

import { t, tn } from "./i18n.js";

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
  constructor(status, detail, path, body = null) {
    super(detail);
    this.name = "ApiError";
    this.status = status;
    this.detail = detail;
    this.path = path;
    /** The parsed JSON error body (e.g. a 422's `detail` list, a 502's `error_code`). */
    this.body = body;
  }

  /** A short headline for the HTTP status, shown above the API's own `detail`. */
  get title() {
    switch (this.status) {
      case 0:
        return t("API unreachable");
      case 401:
        return t("Not authorised (401)");
      case 403:
        return t("Forbidden (403)");
      case 404:
        return t("Not found (404)");
      case 409:
        return t("Conflict (409)");
      case 422:
        return t("Invalid input (422)");
      case 429:
        return t("Too many requests (429)");
      case 502:
        return t("Bad gateway (502)");
      case 504:
        return t("No answer in time (504)");
      default:
        return this.status >= 500 ? t("Server error ({status})", { status: this.status }) : t("Error {status}", { status: this.status });
    }
  }

  get hint() {
    if (this.status === 401) return t("Set the operator API token with the button at the top right.");
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

/**
 * A 422's problems by field: [{path: "battery.min_soc", message}], path "" when the API
 * names no field. Pydantic gives `loc`; the energy domain's physical-limit errors name
 * their quantity (in `ctx.error.quantity`, or as "quantity: message" in a plain detail).
 * `strip` drops leading path parts that are not fields (e.g. a tagged union's tag).
 */
export function fieldErrors(error, strip = []) {
  const detail = error && error.body ? error.body.detail : error && error.detail;
  const quantityOf = (message) => {
    const match = /^(?:Value error, )?([A-Za-z_][\w.]*): (.+)$/s.exec(String(message));
    return match ? { quantity: match[1], message: match[2] } : { quantity: "", message: String(message) };
  };
  const problems = [];
  if (Array.isArray(detail)) {
    for (const item of detail) {
      if (!item || typeof item !== "object") continue;
      const loc = (item.loc || []).filter((part, i) => !(i === 0 && part === "body")).map(String);
      const path = loc.filter((part) => !strip.includes(part));
      const parsed = quantityOf(item.msg || "");
      const quantity = (item.ctx && item.ctx.error && item.ctx.error.quantity) || parsed.quantity;
      if (quantity) {
        // "battery.min_soc" under loc ["battery"]; "vehicle.phases" under ["vehicles", 0].
        const parts = quantity.split(".");
        const tail = path.length ? parts.slice(1) : parts;
        problems.push({ path: [...path, ...tail].join("."), message: parsed.message });
      } else {
        problems.push({ path: path.join("."), message: String(item.msg || "").replace(/^Value error, /, "") });
      }
    }
  } else if (detail) {
    const parsed = quantityOf(detail);
    problems.push({ path: parsed.quantity, message: parsed.message });
  }
  return problems;
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

/**
 * Call the API with the token when one is set: every API route needs one (reads too).
 */
export async function api(method, path, { query, body, signal } = {}) {
  const headers = { Accept: "application/json" };
  const init = { method, headers, signal, cache: "no-store", credentials: "same-origin" };
  if (body !== undefined) {
    headers["Content-Type"] = "application/json";
    init.body = JSON.stringify(body);
  }
  const token = getToken();
  if (token) headers.Authorization = `Bearer ${token}`;
  let response;
  try {
    response = await fetch(url(path, query), init);
  } catch (error) {
    if (error && error.name === "AbortError") throw error;
    throw new ApiError(0, t("The API did not answer. Is the server running?"), path);
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
    throw new ApiError(response.status, detail || response.statusText, path, data);
  }
  return data;
}

export const get = (path, query) => api("GET", path, { query });

/** Fetch a file with the token (a plain link cannot send it) and hand it to the browser
 * as a download named `filename`. */
export async function download(path, query, filename) {
  const headers = {};
  const token = getToken();
  if (token) headers.Authorization = `Bearer ${token}`;
  let response;
  try {
    response = await fetch(url(path, query), { headers, cache: "no-store", credentials: "same-origin" });
  } catch {
    throw new ApiError(0, t("The API did not answer. Is the server running?"), path);
  }
  if (!response.ok) {
    const text = await response.text();
    let data = null;
    try {
      data = JSON.parse(text);
    } catch {
      data = null;
    }
    const detail = data && "detail" in data ? formatDetail(data.detail) : text.slice(0, 300);
    throw new ApiError(response.status, detail || response.statusText, path, data);
  }
  const link = document.createElement("a");
  link.href = URL.createObjectURL(await response.blob());
  link.download = filename;
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(link.href), 10_000);
}
/** Kept for the views that name their reads as needing the token: all reads do now. */
export const getAuthed = get;
export const post = (path, body) => api("POST", path, { body });
export const put = (path, body) => api("PUT", path, { body });
export const patch = (path, body) => api("PATCH", path, { body });
export const del = (path) => api("DELETE", path);

export const enc = encodeURIComponent;

async function errorOf(response, path) {
  const text = await response.text();
  let data = null;
  try {
    data = text ? JSON.parse(text) : null;
  } catch {
    data = null;
  }
  const detail = data && "detail" in data ? formatDetail(data.detail) : text.slice(0, 300);
  return new ApiError(response.status, detail || response.statusText, path, data);
}

/**
 * POST `body` to an endpoint answering with server-sent events, calling `onEvent(type, data)`
 * for each event as it arrives (`data` parsed as JSON when it is JSON). EventSource cannot
 * POST or send the token, so this reads the fetch body stream. Errors before the stream
 * starts are ApiErrors, like api(). Resolves when the stream ends.
 */
export async function apiStream(path, body, onEvent, { signal } = {}) {
  const headers = { Accept: "text/event-stream", "Content-Type": "application/json" };
  const token = getToken();
  if (token) headers.Authorization = `Bearer ${token}`;
  let response;
  try {
    response = await fetch(path, {
      method: "POST",
      headers,
      body: JSON.stringify(body),
      signal,
      cache: "no-store",
      credentials: "same-origin",
    });
  } catch (error) {
    if (error && error.name === "AbortError") throw error;
    throw new ApiError(0, t("The API did not answer. Is the server running?"), path);
  }
  if (!response.ok) throw await errorOf(response, path);
  await readEventStream(response, onEvent);
}

/** One event-stream frame ("event: x\ndata: {...}") as [type, data], or null (comments). */
function parseFrame(frame) {
  let type = "message";
  const data = [];
  for (const line of frame.split("\n")) {
    if (!line || line.startsWith(":")) continue;
    const colon = line.indexOf(":");
    const name = colon === -1 ? line : line.slice(0, colon);
    const value = colon === -1 ? "" : line.slice(colon + 1).replace(/^ /, "");
    if (name === "event") type = value;
    else if (name === "data") data.push(value);
  }
  if (!data.length) return null;
  const raw = data.join("\n");
  try {
    return [type, JSON.parse(raw)];
  } catch {
    return [type, raw];
  }
}

/**
 * Read a text/event-stream body as it arrives, calling `onEvent(type, data)` per event and
 * `onBytes()` whenever anything (a keep-alive comment too) arrives. Resolves at its end.
 */
export async function readEventStream(response, onEvent, onBytes = () => {}) {
  const dispatch = (frame) => {
    const parsed = parseFrame(frame);
    if (parsed) onEvent(parsed[0], parsed[1]);
  };
  if (!response.body || typeof response.body.getReader !== "function") {
    for (const frame of (await response.text()).replace(/\r\n?/g, "\n").split("\n\n")) dispatch(frame);
    return;
  }
  const reader = response.body.getReader();
  const decoder = new TextDecoder();
  let buffer = "";
  for (;;) {
    const { value, done } = await reader.read();
    onBytes();
    buffer += done ? decoder.decode() : decoder.decode(value, { stream: true });
    buffer = buffer.replace(/\r\n?/g, "\n");
    let end = buffer.indexOf("\n\n");
    while (end !== -1) {
      dispatch(buffer.slice(0, end));
      buffer = buffer.slice(end + 2);
      end = buffer.indexOf("\n\n");
    }
    if (done) break;
  }
  if (buffer.trim()) dispatch(buffer);
}

/**
 * Check a token without changing anything: GET /api/me answers 200 with the token's name and
 * role for any valid token, 401 for anything else.
 */
export async function verifyToken(token) {
  const response = await fetch("/api/me", {
    headers: { Accept: "application/json", Authorization: `Bearer ${token}` },
    cache: "no-store",
  });
  if (response.status === 401 || response.status === 403) return false;
  if (!response.ok) throw new ApiError(response.status, response.statusText, "/api/me");
  return true;
}
