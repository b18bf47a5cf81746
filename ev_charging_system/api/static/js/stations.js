// The charge points every view shares, kept current by events instead of re-reading the
// whole list: a status change patches one connector, a new station is read on its own.
//
// Today GET /api/charge-points answers the whole list (no paging on the server yet), so
// the store holds it once and list views page, sort and filter it here (see listing.js).

import { enc, get } from "./api.js";

const stations = new Map();
const listeners = new Set();
let loaded = false;
let loading = null;
let version = 0;
/** Events that arrive while the whole list is being read: applied on top of that answer,
 * which may have been taken before them. */
let pending = [];

function notify(ids) {
  version += 1;
  for (const listener of listeners) listener(ids);
}

/** Be told when stations change: `listener(ids)` (null: everything may have changed). */
export function subscribe(listener) {
  listeners.add(listener);
  return () => listeners.delete(listener);
}

export const isLoaded = () => loaded;
export const storeVersion = () => version;

/** Read every station again (first load, a reconnect of the event stream, a slow poll). */
export function reloadStations() {
  if (!loading) {
    loading = get("/api/charge-points")
      .then((list) => {
        stations.clear();
        for (const station of list) stations.set(station.id, station);
        loaded = true;
        const queued = pending;
        pending = [];
        for (const [type, data] of queued) patch(type, data);
        notify(null);
        return list;
      })
      .finally(() => {
        loading = null;
      });
  }
  return loading;
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
  if (loading) pending.push([type, data]);
  else if (loaded) patch(type, data);
  // Before the first read nothing needs patching: that read includes the change.
  return true;
}

function patch(type, data) {
  const id = data.charge_point_id;
  if (!stations.has(id)) {
    // A station this page has not seen yet (e.g. it connected for the first time). A read
    // already in flight may predate this event: apply the event again once it is known.
    reloadStation(id).then((fresh) => {
      if (fresh && type !== "station.connected") patch(type, data);
    });
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

const collator = new Intl.Collator(undefined, { numeric: true, sensitivity: "base" });
const hasFault = (p) => p.online && p.connectors.some((c) => c.status === "Faulted");
const FILTERS = {
  online: (p) => p.online,
  offline: (p) => !p.online,
  pending: (p) => p.admission === "Pending",
  rejected: (p) => p.admission === "Rejected",
  faulted: hasFault,
};
const SORTS = {
  id: (a, b) => collator.compare(a.id, b.id),
  online: (a, b) => Number(b.online) - Number(a.online),
  registration: (a, b) => collator.compare(a.registration_status || "~", b.registration_status || "~"),
  vendor: (a, b) => collator.compare(`${a.boot?.vendor || "~"} ${a.boot?.model || ""}`, `${b.boot?.vendor || "~"} ${b.boot?.model || ""}`),
  firmware: (a, b) => collator.compare(a.boot?.firmware_version || "~", b.boot?.firmware_version || "~"),
  last_seen: (a, b) => (Date.parse(a.last_heartbeat_at || 0) || 0) - (Date.parse(b.last_heartbeat_at || 0) || 0),
};
export const STATION_SORTS = Object.keys(SORTS);
export const STATION_FILTERS = ["all", ...Object.keys(FILTERS)];

function text(p) {
  const boot = p.boot || {};
  return [p.id, boot.vendor, boot.model, boot.serial_number, boot.charge_box_serial_number, boot.firmware_version].filter(Boolean).join(" ").toLowerCase();
}

/**
 * One page of stations, as `GET /api/charge-points?q=&status=&vendor=&sort=&order=&limit=&offset=`
 * will answer it once the server pages: {items, total, vendors}. Computed here from the store
 * until then; callers only see the query and the page.
 */
export async function queryStations({ q = "", status = "all", vendor = "", sort = "id", order = "asc", limit = 50, offset = 0 } = {}) {
  if (!loaded) await reloadStations();
  const needle = q.trim().toLowerCase();
  const filter = FILTERS[status];
  const matching = allStations().filter((p) => (!filter || filter(p)) && (!vendor || (p.boot && p.boot.vendor) === vendor) && (!needle || text(p).includes(needle)));
  const compare = SORTS[sort] || SORTS.id;
  matching.sort((a, b) => (order === "desc" ? -1 : 1) * (compare(a, b) || SORTS.id(a, b)));
  const vendors = [...new Set(allStations().map((p) => p.boot && p.boot.vendor).filter(Boolean))].sort(collator.compare);
  return { items: matching.slice(offset, offset + limit), total: matching.length, vendors };
}
