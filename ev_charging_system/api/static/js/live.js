// Live updates by push: the server's event stream (GET /api/events, Server-Sent Events).
//
// EventSource cannot send the operator token (and a token in the URL would end up in
// logs), so the stream is read with fetch() and a ReadableStream parser. While the stream
// is up nothing polls; when it is down the app falls back to a slow poll and says so.
// A (re)connection starts with a full refresh, so events missed in between are never lost.

import { getToken, readEventStream } from "./api.js";

const PATH = "/api/events";
/** Reconnect delays after an error, growing; reset once a connection lasted a while. */
const BACKOFF_MS = [1000, 2000, 5000, 10_000, 30_000, 60_000];
/** A server without the endpoint, or refusing the token: ask again only now and then. */
const UNSUPPORTED_RETRY_MS = 5 * 60_000;
/** A connection that stays up this long counts as healthy (the backoff starts over). */
const HEALTHY_MS = 30_000;
/** No byte (not even a keep-alive comment) for this long: the connection is dead. */
const SILENCE_MS = 120_000;
/** The first answer (headers) must come in this long. */
const CONNECT_TIMEOUT_MS = 15_000;

/**
 * Keep a connection to the event stream. `onEvent(type, data)` for each event,
 * `onState(state, detail)` with state "connecting" | "live" | "down" and, when down, a
 * reason: "unsupported" (no such endpoint yet), "unauthorised", "offline" (unreachable or
 * broken). Returns {reconnect(), stop()}.
 */
export function connectLive({ onEvent, onState }) {
  let controller = null;
  let timer = null;
  let attempt = 0;
  let stopped = false;

  function schedule(delay) {
    clearTimeout(timer);
    if (!stopped) timer = setTimeout(connect, delay);
  }

  function down(reason, retryMs) {
    onState("down", reason);
    schedule(retryMs);
  }

  async function connect() {
    clearTimeout(timer);
    if (controller) controller.abort();
    const mine = new AbortController();
    controller = mine;
    onState("connecting");
    const headers = { Accept: "text/event-stream" };
    const token = getToken();
    if (token) headers.Authorization = `Bearer ${token}`;
    let watchdog = setTimeout(() => mine.abort(), CONNECT_TIMEOUT_MS);
    const startedAt = Date.now();
    let response;
    try {
      response = await fetch(PATH, { headers, signal: mine.signal, cache: "no-store", credentials: "same-origin" });
    } catch {
      clearTimeout(watchdog);
      if (controller !== mine || stopped) return;
      down("offline", BACKOFF_MS[Math.min(attempt++, BACKOFF_MS.length - 1)]);
      return;
    }
    clearTimeout(watchdog);
    if (controller !== mine || stopped) return;
    const type = (response.headers.get("content-type") || "").split(";")[0].trim();
    if (response.status === 404 || response.status === 405 || (response.ok && type !== "text/event-stream")) {
      mine.abort();
      down("unsupported", UNSUPPORTED_RETRY_MS);
      return;
    }
    if (response.status === 401 || response.status === 403) {
      down("unauthorised", UNSUPPORTED_RETRY_MS);
      return;
    }
    if (!response.ok) {
      down("offline", BACKOFF_MS[Math.min(attempt++, BACKOFF_MS.length - 1)]);
      return;
    }
    onState("live");
    const alive = () => {
      clearTimeout(watchdog);
      watchdog = setTimeout(() => mine.abort(), SILENCE_MS);
    };
    alive();
    try {
      await readEventStream(response, (name, data) => onEvent(name, data && typeof data === "object" ? data : {}), alive);
    } catch {
      // Aborted or broken: handled below like an ended stream.
    }
    clearTimeout(watchdog);
    if (controller !== mine || stopped) return;
    if (Date.now() - startedAt > HEALTHY_MS) attempt = 0;
    down("offline", BACKOFF_MS[Math.min(attempt++, BACKOFF_MS.length - 1)]);
  }

  connect();
  return {
    /** Connect again now (e.g. the token changed). */
    reconnect() {
      attempt = 0;
      connect();
    },
    stop() {
      stopped = true;
      clearTimeout(timer);
      if (controller) controller.abort();
    },
  };
}
