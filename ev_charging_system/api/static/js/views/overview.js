// Overview: what an operator checks first. Counts, running sessions, what needs attention.
// Counts come from the server's summary (GET /api/overview: one grouped query, per site),
// never from reading every station; the attention list holds the few stations it names
// (pending, faulted, rejected, the longest silent), kept in the shared store and patched by
// events. Station events make the summary be read again (once per burst); sessions are read
// again when a transaction event arrives (or by the slow poll while the stream is down).

import { enc, get } from "../api.js";
import { latestReading } from "../chart.js";
import { h, renderRows, setChildren } from "../dom.js";
import { formatDateTime, formatKW, formatKWh, formatNumber, startOfToday } from "../format.js";
import { t, tn } from "../i18n.js";
import { energyCell, plausibleEnergy, plausiblePower, powerCell } from "../plausible.js";
import { hashFor } from "../router.js";
import * as stations from "../stations.js";
import { badge, connectorBadge, connectorTone, durationSince, errorBox, panel, registrationBadge, singleFlight, statusLabel, table, timeAgo } from "../ui.js";
import { registrationButtons } from "./actions.js";
import { stopButton } from "./remote.js";

const MAX_DETAILED_SESSIONS = 30;
const TODAY_PAGE = 500;
/** The attention list names this many items; the rest are counted with a link to the list. */
const MAX_ATTENTION_ITEMS = 12;
const SESSION_EVENTS_MS = 1000;
const SUMMARY_EVENTS_MS = 1000;
/** Pending, faulted and rejected stations are few: all of them are read (a page each). */
const ATTENTION_PAGE = 500;
/** Offline stations may be thousands: the longest silent are read, the rest counted. */
const OFFLINE_PAGE = 50;
const MAX_SITE_CARDS = 24;
const CONNECTOR_ORDER = ["Available", "Preparing", "Charging", "Occupied", "SuspendedEV", "SuspendedEVSE", "Finishing", "Reserved", "Unavailable", "Faulted", "Offline"];

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

function stationLink(id, where) {
  return h("a", { href: hashFor("charge-points", id), class: "mono strong" }, id, where ? h("span", { class: "muted" }, ` · ${where}`) : null);
}

/** What needs an operator, counted the way the list below shows it. */
export function attentionOf(points) {
  const rejectedOnline = points.filter((p) => p.admission === "Rejected" && p.online);
  const pending = points.filter((p) => p.admission === "Pending");
  // Only a connected station's fault is current; an offline one's is history.
  const faults = points.filter((p) => p.online).flatMap((p) => p.connectors.filter((c) => c.status === "Faulted").map((c) => ({ station: p, connector: c })));
  // As the server counts them (offline_accepted): accepted, booted or not ("never connected").
  const offline = points.filter((p) => !p.online && p.admission === "Accepted");
  return { rejectedOnline, pending, faults, offline, total: rejectedOnline.length + pending.length + faults.length + offline.length };
}

/** A site's counts as one compact card: connected of all, and what is wrong there. */
function siteCard(site) {
  const name = site.site_id === null ? t("No site") : site.name;
  const label = site.site_id === null ? h("a", { href: hashFor("charge-points", null, { site: "none" }) }, name) : h("a", { href: hashFor("sites", site.site_id) }, name);
  const problems = [
    site.offline ? tn(site.offline, "{count} offline", "{count} offline") : null,
    site.faulted ? tn(site.faulted, "{count} faulted", "{count} faulted") : null,
    site.pending ? tn(site.pending, "{count} pending", "{count} pending") : null,
  ].filter(Boolean);
  const tone = site.faulted ? "danger" : site.offline ? "warn" : site.stations ? "ok" : "";
  return kpi(
    label,
    h("span", {}, formatNumber(site.online, 0), h("span", { class: "kpi-total" }, ` / ${formatNumber(site.stations, 0)}`)),
    site.stations === 0 ? t("No stations") : problems.length ? problems.join(" · ") : t("All stations connected"),
    tone,
  );
}

export function overviewView() {
  let root = null;
  /** GET /api/overview: counts of the whole network and per site. */
  let summary = null;
  let summaryTimer = null;
  let sessions = { active: { items: [], total: 0 }, today: [], readings: new Map() };
  let sessionsTimer = null;
  let stationsTimer = null;
  let unsubscribe = null;
  const kpis = h("div", { class: "kpis", "aria-live": "off" });
  const errorSlot = h("div", { class: "error-slot" });
  const sessionsBody = h("tbody");
  const attention = h("div", { class: "attention" });
  const connectorSummary = h("div", { class: "status-summary" });
  const siteCards = h("div", { class: "site-cards kpis-compact" });
  const sitesPanel = panel(t("Sites"), siteCards, { actions: h("a", { class: "btn btn-sm btn-ghost", href: hashFor("sites") }, t("All sites →")) });
  sitesPanel.hidden = true;

  /** What needs attention: offline, pending and rejected-yet-connected stations are counted
   * by the server; faults by the stations held (faulted ones are all read, and events
   * patch them at once). */
  function needs(points) {
    const need = attentionOf(points);
    const total = summary.total;
    const counts = {
      offline: total.offline_accepted,
      faults: need.faults.length,
      pending: total.pending,
      rejectedOnline: total.rejected_online,
    };
    return { need, counts, total: counts.offline + counts.faults + counts.pending + counts.rejectedOnline };
  }

  function renderKpis(points) {
    const { active, today, readings } = sessions;
    const online = summary.total.online;
    const stationCount = summary.total.stations;
    const { counts, total: attentionTotal } = needs(points);
    let energyWh = 0;
    let implausible = 0;
    for (const tx of today) {
      const wh = tx.active ? (readings.get(tx.id) || {}).energyWh : tx.energy_wh;
      if (wh === null || wh === undefined) continue;
      if (plausibleEnergy(wh)) energyWh += wh;
      else implausible += 1;
    }
    const powers = [...readings.values()].map((r) => r.powerW).filter((w) => w !== null && w !== undefined);
    const powerW = powers.filter(plausiblePower).reduce((sum, w) => sum + w, 0);
    const stationsCharging = new Set(active.items.map((tx) => tx.charge_point_id)).size;
    const parts = [
      counts.offline ? tn(counts.offline, "{count} station offline", "{count} stations offline") : "",
      counts.faults ? tn(counts.faults, "{count} faulted connector", "{count} faulted connectors") : "",
      counts.pending ? tn(counts.pending, "{count} registration to decide", "{count} registrations to decide") : "",
      counts.rejectedOnline ? tn(counts.rejectedOnline, "{count} rejected station connected", "{count} rejected stations connected") : "",
    ].filter(Boolean);
    setChildren(
      kpis,
      kpi(
        t("Charge points online"),
        h("span", {}, formatNumber(online, 0), h("span", { class: "kpi-total" }, ` / ${formatNumber(stationCount, 0)}`)),
        stationCount === 0 ? t("No stations registered yet") : online === stationCount ? t("All stations connected") : tn(stationCount - online, "{count} offline", "{count} offline"),
        stationCount && online < stationCount ? "warn" : "ok",
      ),
      kpi(
        t("Active sessions"),
        formatNumber(active.total, 0),
        active.total ? tn(stationsCharging, "On {count} station · {power} now", "On {count} stations · {power} now", { power: formatKW(powerW) }) : t("No car is charging"),
        active.total ? "info" : "",
      ),
      kpi(
        t("Energy today"),
        formatKWh(energyWh),
        [
          tn(today.length, "{count} session started since midnight", "{count} sessions started since midnight"),
          implausible ? h("span", { class: "text-warn" }, " · ", tn(implausible, "{count} implausible reading left out", "{count} implausible readings left out")) : null,
        ],
      ),
      kpi(t("Needs attention"), formatNumber(attentionTotal, 0), attentionTotal ? parts.join(" · ") : t("Nothing pending, faulted or offline"), attentionTotal ? "danger" : "ok"),
    );
  }

  function renderSessions() {
    const { active, readings } = sessions;
    renderRows(
      sessionsBody,
      active.items.map((tx) => ({ ...tx, reading: readings.get(tx.id) || null })),
      (tx) => tx.id,
      (tx) =>
        h(
          "tr",
          {},
          h("td", {}, h("a", { href: hashFor("transactions", tx.id) }, `#${tx.id}`)),
          h("td", {}, stationLink(tx.charge_point_id, String(tx.connector_id))),
          h("td", { class: "mono" }, tx.id_tag),
          h("td", { class: "num", title: t("Started {time}", { time: formatDateTime(tx.started_at) }) }, durationSince(tx.started_at)),
          h("td", { class: "num" }, tx.reading ? energyCell(tx.reading.energyWh) : "—"),
          h("td", { class: "num" }, tx.reading ? powerCell(tx.reading.powerW) : "—"),
          h("td", { class: "actions" }, stopButton(tx, { after: () => scheduleSessions() })),
        ),
      7,
      t("No sessions are running."),
    );
  }

  function item(tone, head, note, actions = null) {
    return h("li", { class: ["attention-item", `tone-${tone}`] }, h("div", {}, head, h("p", { class: "muted small" }, note)), actions);
  }

  function renderAttention(points) {
    const { need, counts, total: attentionTotal } = needs(points);
    const items = [];
    for (const p of need.rejectedOnline) {
      items.push(item("danger", [stationLink(p.id), " ", registrationBadge("Rejected")], t("Rejected but still connected: its messages get SecurityError"), registrationButtons(p, () => stations.reloadStation(p.id))));
    }
    for (const p of need.pending) {
      items.push(item("warn", [stationLink(p.id), " ", registrationBadge("Pending")], t("Waiting for an operator to accept it"), registrationButtons(p, () => stations.reloadStation(p.id))));
    }
    for (const { station: p, connector: c } of need.faults) {
      const code = [c.error_code, c.vendor_error_code, c.info].filter((v) => v && v !== "NoError").join(" · ");
      const where = c.connector_id === 0 ? t("station") : t("connector {id}", { id: c.connector_id });
      items.push(item("danger", [stationLink(p.id, where), " ", connectorBadge("Faulted")], [code || t("No error code"), " · ", t("since"), " ", timeAgo(c.reported_at)]));
    }
    // Longest silent first: those are the ones a technician should visit.
    const offline = [...need.offline].sort((a, b) => (Date.parse(a.last_heartbeat_at || 0) || 0) - (Date.parse(b.last_heartbeat_at || 0) || 0));
    for (const p of offline) {
      const lastFault = p.connectors.find((c) => c.status === "Faulted");
      items.push(
        item(
          "muted",
          [stationLink(p.id), " ", h("span", { class: "presence is-offline" }, h("span", { class: "dot", "aria-hidden": "true" }), statusLabel("Offline"))],
          [
            p.last_heartbeat_at ? [t("Last heard from"), " ", timeAgo(p.last_heartbeat_at)] : t("Has never connected"),
            lastFault ? [" · ", t("last known state: Faulted")] : null,
          ],
        ),
      );
    }
    if (!items.length && !attentionTotal) {
      setChildren(attention, h("p", { class: "all-clear" }, t("All clear: no pending stations, faults or offline stations.")));
      return;
    }
    // The list names what the page holds; the rest of the count is in the station list.
    const hidden = Math.max(items.length, attentionTotal) - Math.min(items.length, MAX_ATTENTION_ITEMS);
    setChildren(
      attention,
      h("ul", { class: "attention-list" }, items.slice(0, MAX_ATTENTION_ITEMS)),
      hidden > 0
        ? h(
            "p",
            { class: "more" },
            h("a", { href: hashFor("charge-points", null, { status: counts.offline >= hidden ? "offline" : null }) }, tn(hidden, "{count} more in the charge point list →", "{count} more in the charge point list →")),
          )
        : null,
    );
  }

  function renderConnectorSummary() {
    const counts = new Map(Object.entries(summary.total.connectors));
    const total = [...counts.values()].reduce((sum, n) => sum + n, 0);
    if (!total) {
      setChildren(connectorSummary, h("p", { class: "muted" }, t("No connector has reported a status yet.")));
      return;
    }
    const rank = (status) => (CONNECTOR_ORDER.indexOf(status) < 0 ? 99 : CONNECTOR_ORDER.indexOf(status));
    const entries = [...counts.entries()].sort((a, b) => rank(a[0]) - rank(b[0]));
    const tone = (status) => (status === "Offline" ? "offline" : connectorTone(status));
    const bar = h(
      "div",
      { class: "stacked-bar", role: "img", "aria-label": entries.map(([k, n]) => `${formatNumber(n, 0)} ${statusLabel(k)}`).join(", ") },
      entries.map(([status, n]) => {
        const segment = h("span", { class: ["segment", `tone-${tone(status)}`], title: `${statusLabel(status)}: ${formatNumber(n, 0)}` });
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
          h("li", {}, h("span", { class: ["swatch", `tone-${tone(status)}`], "aria-hidden": "true" }), h("span", { class: "legend-label" }, statusLabel(status)), h("span", { class: "legend-count" }, formatNumber(n, 0))),
        ),
      ),
    );
  }

  function renderSites() {
    const named = summary.sites.filter((site) => site.site_id !== null);
    sitesPanel.hidden = named.length === 0;
    if (!named.length) return;
    const shown = summary.sites.filter((site) => site.site_id !== null || site.stations > 0).slice(0, MAX_SITE_CARDS);
    setChildren(siteCards, shown.map(siteCard), summary.sites.length > MAX_SITE_CARDS ? badge(tn(summary.sites.length - MAX_SITE_CARDS, "{count} more site", "{count} more sites")) : null);
  }

  function renderStations() {
    if (!root || !summary) return;
    const points = stations.allStations();
    renderKpis(points);
    renderAttention(points);
    renderConnectorSummary();
    renderSites();
  }

  /** The counts, and the stations the attention list names (into the shared store). */
  async function loadStations() {
    const [counted] = await Promise.all([
      get("/api/overview"),
      stations.queryStations({ status: "pending", limit: ATTENTION_PAGE }),
      stations.queryStations({ status: "faulted", limit: ATTENTION_PAGE }),
      stations.queryStations({ status: "rejected", limit: ATTENTION_PAGE }),
      stations.queryStations({ status: "offline", sort: "last_seen", limit: OFFLINE_PAGE }),
    ]);
    summary = counted;
  }

  /** Stations changed (events): read the counts again, once per burst. */
  function scheduleSummary() {
    if (summaryTimer) return;
    summaryTimer = setTimeout(async () => {
      summaryTimer = null;
      try {
        await loadStations();
        renderStations();
      } catch (error) {
        if (root) setChildren(errorSlot, errorBox(error));
      }
    }, SUMMARY_EVENTS_MS);
  }

  async function loadSessions() {
    const [active, today] = await Promise.all([get("/api/transactions", { active: true, limit: 200 }), todaysTransactions()]);
    const details = await Promise.all(active.items.slice(0, MAX_DETAILED_SESSIONS).map((tx) => get(`/api/transactions/${enc(tx.id)}`).catch(() => null)));
    const readings = new Map();
    for (const detail of details) if (detail) readings.set(detail.id, latestReading(detail));
    sessions = { active, today, readings };
  }

  async function load() {
    await Promise.all([loadStations(), loadSessions()]);
    if (!root) return;
    errorSlot.replaceChildren();
    renderStations();
    renderSessions();
  }

  const refresh = singleFlight(load, (error) => {
    if (root) setChildren(errorSlot, errorBox(error));
  });

  /** Sessions changed (an event or a stop from this page): read them again, once per burst. */
  function scheduleSessions() {
    if (sessionsTimer) return;
    sessionsTimer = setTimeout(async () => {
      sessionsTimer = null;
      try {
        await loadSessions();
        if (!root) return;
        renderSessions();
        renderStations();
      } catch (error) {
        if (root) setChildren(errorSlot, errorBox(error));
      }
    }, SESSION_EVENTS_MS);
  }

  return {
    title: t("Overview"),
    mount(container) {
      root = h(
        "div",
        { class: "view" },
        h("div", { class: "view-header" }, h("div", {}, h("h1", {}, t("Overview")), h("p", { class: "view-lede" }, t("Live state of the charging network.")))),
        errorSlot,
        kpis,
        sitesPanel,
        h(
          "div",
          { class: "grid-2" },
          panel(
            t("Active sessions"),
            table([t("Session"), t("Charge point · connector"), t("Id tag"), { label: t("Duration"), class: "num" }, { label: t("Energy"), class: "num" }, { label: t("Power"), class: "num" }, { label: h("span", { class: "visually-hidden" }, t("Actions")), class: "actions" }], sessionsBody, { caption: t("Active sessions") }),
            { actions: h("a", { class: "btn btn-sm btn-ghost", href: hashFor("transactions", null, { active: "true" }) }, t("All active sessions →")) },
          ),
          h("div", { class: "stack" }, panel(t("Needs attention"), attention), panel(t("Connectors"), connectorSummary, { description: t("Current status of every connector") })),
        ),
      );
      kpis.append(h("p", { class: "muted loading" }, t("Loading…")));
      container.append(root);
      // A burst of station events (a site reconnecting) redraws once, not once per event.
      unsubscribe = stations.subscribe(() => {
        if (stationsTimer) return;
        stationsTimer = setTimeout(() => {
          stationsTimer = null;
          renderStations();
        }, 250);
      });
    },
    update() {},
    refresh,
    onEvent(type) {
      if (type.startsWith("transaction.") || type === "meter.sample_stored") scheduleSessions();
      if (type.startsWith("station.") || type === "connector.status_changed") scheduleSummary();
    },
    unmount() {
      root = null;
      clearTimeout(sessionsTimer);
      clearTimeout(stationsTimer);
      clearTimeout(summaryTimer);
      sessionsTimer = null;
      stationsTimer = null;
      summaryTimer = null;
      if (unsubscribe) unsubscribe();
    },
  };
}
