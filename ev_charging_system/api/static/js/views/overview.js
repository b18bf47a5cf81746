// Overview: what an operator checks first. Counts, running sessions, what needs attention.

import { enc, get } from "../api.js";
import { latestReading } from "../chart.js";
import { h, renderRows, setChildren } from "../dom.js";
import { formatDateTime, formatKW, formatKWh, startOfToday } from "../format.js";
import { hashFor } from "../router.js";
import { connectorBadge, connectorTone, durationSince, errorBox, panel, registrationBadge, table, timeAgo } from "../ui.js";
import { registrationButtons } from "./actions.js";
import { stopButton } from "./remote.js";

const MAX_DETAILED_SESSIONS = 30;
const TODAY_PAGE = 500;

async function todaysTransactions() {
  const from = startOfToday().toISOString();
  const items = [];
  for (let page = 0; page < 10; page += 1) {
    const result = await get("/api/transactions", { from, limit: TODAY_PAGE, offset: page * TODAY_PAGE });
    items.push(...result.items);
    if (items.length >= result.total || result.items.length === 0) break;
  }
  return items;
}

function kpi(label, value, sub, tone = "") {
  return h(
    "div",
    { class: ["kpi", tone && `kpi-${tone}`] },
    h("p", { class: "kpi-label" }, label),
    h("p", { class: "kpi-value" }, value),
    h("p", { class: "kpi-sub" }, sub),
  );
}

function stationLink(id, connectorId) {
  return h(
    "a",
    { href: hashFor("charge-points", id), class: "mono strong" },
    id,
    connectorId !== undefined && connectorId !== null ? h("span", { class: "muted" }, ` · ${connectorId}`) : null,
  );
}

export function overviewView() {
  let root = null;
  let inFlight = null;
  const kpis = h("div", { class: "kpis", "aria-live": "off" });
  const errorSlot = h("div", { class: "error-slot" });
  const sessionsBody = h("tbody");
  const attention = h("div", { class: "attention" });
  const connectorSummary = h("div", { class: "status-summary" });

  function renderKpis(points, active, today, readings) {
    const online = points.filter((p) => p.online).length;
    const pending = points.filter(
      (p) => p.registration_status === "Pending" || (p.registration_status === "Rejected" && p.online),
    ).length;
    const faulted = points.reduce(
      (n, p) => n + p.connectors.filter((c) => c.status === "Faulted").length,
      0,
    );
    let energyWh = 0;
    for (const t of today) {
      if (!t.active) energyWh += t.energy_wh || 0;
      else if (readings.has(t.id)) energyWh += readings.get(t.id).energyWh || 0;
    }
    const powerW = [...readings.values()].reduce((sum, r) => sum + (r.powerW || 0), 0);
    const stations = new Set(active.items.map((t) => t.charge_point_id)).size;
    const attentionCount = pending + faulted;
    setChildren(
      kpis,
      kpi(
        "Charge points online",
        h("span", {}, String(online), h("span", { class: "kpi-total" }, ` / ${points.length}`)),
        points.length === 0
          ? "No stations registered yet"
          : online === points.length
            ? "All stations connected"
            : `${points.length - online} offline`,
        points.length && online < points.length ? "warn" : "ok",
      ),
      kpi(
        "Active sessions",
        String(active.total),
        active.total ? `On ${stations} station${stations === 1 ? "" : "s"} · ${formatKW(powerW)} now` : "No car is charging",
        active.total ? "info" : "",
      ),
      kpi(
        "Energy today",
        formatKWh(energyWh),
        `${today.length} session${today.length === 1 ? "" : "s"} started since midnight`,
      ),
      kpi(
        "Needs attention",
        String(attentionCount),
        attentionCount
          ? [
              pending ? `${pending} registration${pending === 1 ? "" : "s"} to decide` : "",
              faulted ? `${faulted} faulted connector${faulted === 1 ? "" : "s"}` : "",
            ]
              .filter(Boolean)
              .join(" · ")
          : "Nothing pending or faulted",
        attentionCount ? "danger" : "ok",
      ),
    );
  }

  function renderSessions(active, readings) {
    renderRows(
      sessionsBody,
      active.items.map((t) => ({ ...t, reading: readings.get(t.id) || null })),
      (t) => t.id,
      (t) =>
        h(
          "tr",
          {},
          h("td", {}, h("a", { href: hashFor("transactions", t.id) }, `#${t.id}`)),
          h("td", {}, stationLink(t.charge_point_id, t.connector_id)),
          h("td", { class: "mono" }, t.id_tag),
          h("td", { class: "num", title: `Started ${formatDateTime(t.started_at)}` }, durationSince(t.started_at)),
          h("td", { class: "num" }, t.reading ? formatKWh(t.reading.energyWh) : "—"),
          h("td", { class: "num" }, t.reading ? formatKW(t.reading.powerW) : "—"),
          h("td", { class: "actions" }, stopButton(t, { after: () => setTimeout(refresh, 1500) })),
        ),
      7,
      "No sessions are running.",
    );
  }

  function renderAttention(points) {
    const items = [];
    for (const p of points) {
      if (p.registration_status === "Rejected" && p.online) {
        items.push(
          h(
            "li",
            { class: "attention-item tone-danger" },
            h("div", {}, stationLink(p.id), " ", registrationBadge("Rejected"), h("p", { class: "muted small" }, "Rejected but still connected: its messages get SecurityError")),
            registrationButtons(p, refresh),
          ),
        );
      }
      if (p.registration_status === "Pending") {
        items.push(
          h(
            "li",
            { class: "attention-item tone-warn" },
            h("div", {}, stationLink(p.id), " ", registrationBadge("Pending"), h("p", { class: "muted small" }, "Waiting for an operator to accept it")),
            registrationButtons(p, refresh),
          ),
        );
      }
      for (const c of p.connectors) {
        if (c.status !== "Faulted") continue;
        const code = [c.error_code, c.vendor_error_code, c.info].filter((v) => v && v !== "NoError").join(" · ");
        items.push(
          h(
            "li",
            { class: "attention-item tone-danger" },
            h(
              "div",
              {},
              stationLink(p.id, c.connector_id === 0 ? "station" : `connector ${c.connector_id}`),
              " ",
              connectorBadge("Faulted"),
              h("p", { class: "muted small" }, code || "No error code", " · since ", timeAgo(c.reported_at)),
            ),
          ),
        );
      }
    }
    for (const p of points) {
      if (p.online || p.registration_status !== "Accepted") continue;
      items.push(
        h(
          "li",
          { class: "attention-item tone-muted" },
          h("div", {}, stationLink(p.id), " ", h("span", { class: "presence is-offline" }, h("span", { class: "dot", "aria-hidden": "true" }), "Offline"), h("p", { class: "muted small" }, p.last_heartbeat_at ? ["Last heard from ", timeAgo(p.last_heartbeat_at)] : "Has never connected")),
        ),
      );
    }
    if (!items.length) {
      setChildren(attention, h("p", { class: "all-clear" }, "All clear: no pending stations, faults or offline stations."));
    } else {
      setChildren(attention, h("ul", { class: "attention-list" }, items));
    }
  }

  function renderConnectorSummary(points) {
    const counts = new Map();
    let total = 0;
    for (const p of points) {
      for (const c of p.connectors) {
        if (c.connector_id === 0) continue;
        const key = p.online ? c.status : "Offline";
        counts.set(key, (counts.get(key) || 0) + 1);
        total += 1;
      }
    }
    if (!total) {
      setChildren(connectorSummary, h("p", { class: "muted" }, "No connector has reported a status yet."));
      return;
    }
    const order = ["Available", "Preparing", "Charging", "Occupied", "SuspendedEV", "SuspendedEVSE", "Finishing", "Reserved", "Unavailable", "Faulted", "Offline"];
    const entries = [...counts.entries()].sort((a, b) => {
      const ia = order.indexOf(a[0]);
      const ib = order.indexOf(b[0]);
      return (ia < 0 ? 99 : ia) - (ib < 0 ? 99 : ib);
    });
    const bar = h(
      "div",
      { class: "stacked-bar", role: "img", "aria-label": entries.map(([k, n]) => `${n} ${k}`).join(", ") },
      entries.map(([status, n]) => {
        const segment = h("span", { class: ["segment", `tone-${status === "Offline" ? "offline" : connectorTone(status)}`], title: `${status}: ${n}` });
        segment.style.flexGrow = String(n);
        return segment;
      }),
    );
    setChildren(
      connectorSummary,
      bar,
      h(
        "ul",
        { class: "legend" },
        entries.map(([status, n]) =>
          h("li", {}, h("span", { class: ["swatch", `tone-${status === "Offline" ? "offline" : connectorTone(status)}`], "aria-hidden": "true" }), h("span", { class: "legend-label" }, status), h("span", { class: "legend-count" }, String(n))),
        ),
      ),
    );
  }

  async function load() {
    const [points, active, today] = await Promise.all([
      get("/api/charge-points"),
      get("/api/transactions", { active: true, limit: 200 }),
      todaysTransactions(),
    ]);
    const details = await Promise.all(
      active.items.slice(0, MAX_DETAILED_SESSIONS).map((t) => get(`/api/transactions/${enc(t.id)}`).catch(() => null)),
    );
    const readings = new Map();
    for (const detail of details) if (detail) readings.set(detail.id, latestReading(detail));
    if (!root) return;
    errorSlot.replaceChildren();
    renderKpis(points, active, today, readings);
    renderSessions(active, readings);
    renderAttention(points);
    renderConnectorSummary(points);
  }

  function refresh() {
    if (!inFlight) {
      inFlight = load()
        .catch((error) => {
          if (root) setChildren(errorSlot, errorBox(error));
        })
        .finally(() => {
          inFlight = null;
        });
    }
    return inFlight;
  }

  return {
    title: "Overview",
    mount(container) {
      root = h(
        "div",
        { class: "view" },
        h("div", { class: "view-header" }, h("div", {}, h("h1", {}, "Overview"), h("p", { class: "view-lede" }, "Live state of the charging network, refreshed every few seconds."))),
        errorSlot,
        kpis,
        h(
          "div",
          { class: "grid-2" },
          panel(
            "Active sessions",
            table(["Session", "Charge point · connector", "Id tag", { label: "Duration", class: "num" }, { label: "Energy", class: "num" }, { label: "Power", class: "num" }, { label: h("span", { class: "visually-hidden" }, "Actions"), class: "actions" }], sessionsBody, { caption: "Active sessions" }),
            { actions: h("a", { class: "btn btn-sm btn-ghost", href: hashFor("transactions", null, { active: "true" }) }, "All active sessions →") },
          ),
          h(
            "div",
            { class: "stack" },
            panel("Needs attention", attention),
            panel("Connectors", connectorSummary, { description: "Current status of every connector" }),
          ),
        ),
      );
      kpis.append(h("p", { class: "muted" }, "Loading…"));
      container.append(root);
    },
    update() {},
    refresh,
    unmount() {
      root = null;
    },
  };
}
