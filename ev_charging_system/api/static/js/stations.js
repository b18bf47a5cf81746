// The charge points every view shares, kept current by events instead of re-reading the
// whole list: a status change patches one connector, a new station is read on its own.
//
// The store holds the stations the views have read (a page of the list, the overview's
// attention list), never the whole network: counts come from the server's summary
// (GET /api/overview, counted per site by the database).

import { enc, get } from "./api.js";

const stations = new Map();
const listeners = new Set();
let version = 0;

function notify(ids) {
  version += 1;
  for (const listener of listeners) listener(ids);
}

/** Be told when stations change: `listener(ids)` (null: everything may have changed). */
export function subscribe(listener) {
  listeners.add(listener);
  return () => listeners.delete(listener);
}

export const storeVersion = () => version;

/** Forget every station held (a reconnect of the event stream, a slow poll, a click on the
 * indicator): events may have been missed, so the views read what they show again (the app
 * refreshes the current view right after) instead of trusting older copies. */
export function reloadStations() {
  stations.clear();
  notify(null);
  return Promise.resolve([]);
}

/** Every station as an array (in no particular order). */
export function allStations() {
  return [...stations.values()];
}

export function station(id) {
  return stations.get(id) || null;
}

const reading = new Map();
/** Events about a station that arrived while it was being read: the answer may have been
 * taken before them, so they are applied again on top of it. */
const arrivedDuringRead = new Map();

/** Read one station again (e.g. after its boot), at most one request at a time per station. */
export function reloadStation(id) {
  if (!reading.has(id)) {
    arrivedDuringRead.set(id, []);
    reading.set(
      id,
      get(`/api/charge-points/${enc(id)}`)
        .then((fresh) => {
          stations.set(fresh.id, fresh);
          for (const [type, data] of arrivedDuringRead.get(id) || []) applyToKnown(type, data);
          notify([fresh.id]);
          return fresh;
        })
        .catch((error) => {
          if (error && error.status === 404 && stations.delete(id)) notify([id]);
          return null;
        })
        .finally(() => {
          reading.delete(id);
          arrivedDuringRead.delete(id);
        }),
    );
  }
  return reading.get(id);
}

/** Apply one event of the stream; true when it was about stations. */
export function applyEvent(type, data) {
  const id = data.charge_point_id;
  if (!id || (!type.startsWith("station.") && type !== "connector.status_changed")) return false;
  patch(type, data);
  return true;
}

function patch(type, data) {
  const id = data.charge_point_id;
  if (!stations.has(id)) {
    // A station no view holds: the views decide whether to read again (the overview reads
    // its counts). A fault needs the station itself (the attention list names it): read it,
    // and since a read already in flight may predate this event, apply it once it is known.
    if (type === "connector.status_changed" && data.status === "Faulted") {
      reloadStation(id).then((fresh) => {
        if (fresh) patch(type, data);
      });
    } else {
      notify([id]);
    }
    return;
  }
  if (applyToKnown(type, data)) {
    arrivedDuringRead.get(id)?.push([type, data]);
    notify([id]);
    if (type === "station.connected") reloadStation(id); // its version and boot information may have changed
  } else {
    reloadStation(id); // booted, registration changed, ...: read what it looks like now
  }
}

/** Change a known station as the event says; false when the event needs a fresh read. */
function applyToKnown(type, data) {
  const id = data.charge_point_id;
  const known = stations.get(id);
  if (!known) return false;
  if (type === "station.connected") {
    stations.set(id, { ...known, online: true, last_heartbeat_at: data.at || known.last_heartbeat_at });
  } else if (type === "station.disconnected") {
    stations.set(id, { ...known, online: false });
  } else if (type === "connector.status_changed") {
    const connectorId = Number(data.connector_id);
    const connector = {
      connector_id: connectorId,
      status: data.status,
      error_code: data.error_code ?? "NoError",
      info: data.info ?? null,
      vendor_id: data.vendor_id ?? null,
      vendor_error_code: data.vendor_error_code ?? null,
      reported_at: data.reported_at || data.at || null,
    };
    const connectors = known.connectors.filter((c) => c.connector_id !== connectorId);
    connectors.push(connector);
    connectors.sort((a, b) => a.connector_id - b.connector_id);
    stations.set(id, { ...known, online: true, connectors, last_heartbeat_at: data.at || known.last_heartbeat_at });
  } else {
    return false;
  }
  return true;
}

/** What the server's list takes as `status=` and `sort=`. */
export const STATION_FILTERS = ["all", "online", "offline", "accepted", "pending", "rejected", "faulted", "booted", "never_booted"];
export const STATION_SORTS = ["id", "online", "registration", "vendor", "firmware", "last_seen", "last_boot", "created"];

/**
 * One page of stations, paged, sorted and filtered by the server:
 * `GET /api/charge-points?q=&status=&vendor=&site=&sort=&order=&limit=&offset=` answers
 * {items, total, limit, offset, vendors}. A station the store already holds is shown as the
 * store has it (the event stream keeps it current); others join the store.
 */
export async function queryStations({ q = "", status = "all", vendor = "", site = "", sort = "id", order = "asc", limit = 50, offset = 0 } = {}) {
  const query = { sort, order, limit, offset };
  if (q.trim()) query.q = q.trim();
  if (status && status !== "all") query.status = status;
  if (vendor) query.vendor = vendor;
  if (site) query.site = site;
  const page = await get("/api/charge-points", query);
  const items = page.items.map((fresh) => {
    if (!stations.has(fresh.id)) stations.set(fresh.id, fresh);
    return stations.get(fresh.id);
  });
  return { ...page, items };
}
