// Charge points: the inventory table, registration decisions and a detail drawer per station.

import { enc, get, getToken, post, put } from "../api.js";
import { stationPowerChart } from "../chart.js";
import { h, renderRows, setChildren, truncate } from "../dom.js";
import { formatNumber } from "../format.js";
import { t, tn } from "../i18n.js";
import { hashFor, navigate, parseRoute } from "../router.js";
import * as stations from "../stations.js";
import {
  badge,
  busy,
  button,
  confirmDialog,
  connectorBadge,
  dash,
  definitionList,
  emptyState,
  errorBox,
  field,
  onlineBadge,
  openDialog,
  pagination,
  registrationBadge,
  select,
  singleFlight,
  table,
  tabs,
  timeAgo,
  timeExact,
  toast,
} from "../ui.js";
import { registrationButtons } from "./actions.js";
import { commandLog, remotePanel } from "./remote.js";
import { deviceModelPanel, diagnosisPanel } from "./station-insight.js";

const TABS = ["overview", "remote", "commands", "diagnosis", "device-model", "history", "events", "security"];

const DEFAULT_LIMIT = 50;
const FILTERS = [
  ["all", t("All stations")],
  ["online", t("Online")],
  ["offline", t("Offline")],
  ["pending", t("Pending registration")],
  ["rejected", t("Rejected")],
  ["faulted", t("With a faulted connector")],
];
const EVENT_TONES = {
  connected: "ok",
  disconnected: "muted",
  boot: "info",
  registration_changed: "warn",
  auth_failed: "danger",
  protocol_error: "danger",
  security_event: "danger",
  meter_anomaly: "warn",
  unknown_transaction_stop: "warn",
  unknown_transaction_meter_values: "warn",
  repeated_stop: "warn",
};
const PAGE_STEP = 50;
const SORTS = [
  ["id", t("Charge point")],
  ["online", t("Connection")],
  ["registration", t("Registration")],
  ["vendor", t("Vendor · model")],
  ["firmware", t("Firmware")],
  ["last_seen", t("Last heartbeat")],
];

/** The list's query from the route: what the server's paged list will take too. */
function listQuery(query) {
  const limit = Number(query.get("limit"));
  const offset = Number(query.get("offset"));
  const status = query.get("status");
  const sort = query.get("sort");
  const site = query.get("site") || "";
  return {
    q: query.get("q") || "",
    status: stations.STATION_FILTERS.includes(status) ? status : "all",
    vendor: query.get("vendor") || "",
    site: /^(none|[1-9][0-9]{0,14})$/.test(site) ? site : "",
    sort: stations.STATION_SORTS.includes(sort) ? sort : "id",
    order: query.get("order") === "desc" ? "desc" : "asc",
    limit: Number.isInteger(limit) && limit >= 1 && limit <= 500 ? limit : DEFAULT_LIMIT,
    offset: Number.isInteger(offset) && offset >= 0 ? offset : 0,
  };
}

function hasError(connector) {
  return connector.error_code && connector.error_code !== "NoError";
}

/** The connectors' states; an offline station's are its last known ones, shown as such. */
function connectorChips(connectors, online) {
  const shown = connectors.filter(
    (c) => c.connector_id > 0 || c.status === "Faulted" || c.status === "Unavailable" || hasError(c),
  );
  if (!shown.length) return h("span", { class: "muted" }, t("No status yet"));
  if (!online) {
    return h("span", { class: "muted small", title: shown.map((c) => `${c.connector_id}: ${c.status}`).join(", ") }, t("Offline: last known states in the details"));
  }
  return h(
    "ul",
    { class: "chips" },
    shown.map((c) =>
      h(
        "li",
        { class: "chip", title: [c.status, hasError(c) ? c.error_code : "", c.info || ""].filter(Boolean).join(" · ") },
        h("span", { class: "chip-id" }, c.connector_id === 0 ? "CP" : String(c.connector_id)),
        connectorBadge(c.status),
        hasError(c) ? h("span", { class: "chip-error" }, c.error_code) : null,
      ),
    ),
  );
}

function randomPassword(length = 24) {
  const alphabet = "ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789";
  const bytes = new Uint8Array(length);
  crypto.getRandomValues(bytes);
  return Array.from(bytes, (b) => alphabet[b % alphabet.length]).join("");
}

function passwordInput(props = {}) {
  return h("input", {
    type: "text",
    class: "input mono",
    minlength: 16,
    maxlength: 40,
    autocomplete: "new-password",
    spellcheck: "false",
    ...props,
  });
}

function eventDetail(detail) {
  const entries = Object.entries(detail || {});
  if (!entries.length) return h("span", { class: "muted" }, "—");
  return h(
    "dl",
    { class: "kv" },
    entries.map(([key, value]) => {
      if (value === null || value === undefined || value === "") {
        return h("div", {}, h("dt", {}, key), h("dd", { class: "muted" }, "—"));
      }
      const text = typeof value === "string" ? value : JSON.stringify(value);
      return h("div", {}, h("dt", {}, key), h("dd", { title: text.length > 120 ? text : null }, truncate(text, 120)));
    }),
  );
}

/** The sites to choose from (GET /api/sites), for the filter, the column and the drawer. */
let siteChoices = [];

function siteName(siteId) {
  if (siteId === null || siteId === undefined) return null;
  const site = siteChoices.find((s) => s.id === siteId);
  return site ? site.name : `#${siteId}`;
}

/** The station's site, changed on the spot (an administrator's token is needed). */
function siteControl(cp, after) {
  const choice = select([["", t("No site")], ...siteChoices.map((s) => [String(s.id), s.name])], cp.site_id === null ? "" : String(cp.site_id), {
    class: "input input-sm",
    "aria-label": t("Site of {id}", { id: cp.id }),
  });
  choice.addEventListener("change", () =>
    busy(choice, async () => {
      const site_id = choice.value ? Number(choice.value) : null;
      await put(`/api/charge-points/${enc(cp.id)}/site`, { site_id });
      toast(site_id === null ? t("{id} stands at no site now.", { id: cp.id }) : t("{id} stands at {site} now.", { id: cp.id, site: siteName(site_id) }));
      after();
    }),
  );
  return choice;
}

export function chargePointsView() {
  let root = null;
  /** Counts of the whole network (GET /api/overview, counted by the server). */
  let networkTotal = null;
  let query = listQuery(new URLSearchParams());
  let detail = null;
  let openedFromList = false;
  let unsubscribe = null;
  let renderTimer = null;
  const tbody = h("tbody");
  const errorSlot = h("div", { class: "error-slot" });
  const pager = h("div");
  const summary = h("p", { class: "view-lede" }, t("Loading…"));
  const form = {};

  function routeQuery(next) {
    const q = { ...query, ...next };
    return {
      q: q.q || null,
      status: q.status === "all" ? null : q.status,
      vendor: q.vendor || null,
      site: q.site || null,
      sort: q.sort === "id" ? null : q.sort,
      order: q.order === "asc" ? null : q.order,
      limit: q.limit === DEFAULT_LIMIT ? null : q.limit,
      offset: q.offset || null,
    };
  }

  function row(p) {
    const link = h("a", { href: hashFor("charge-points", p.id), class: "mono strong", on: { click: () => { if (detail === null) openedFromList = true; } } }, p.id);
    const tr = h(
      "tr",
      { class: "clickable" },
      h(
        "td",
        {},
        link,
        h(
          "div",
          { class: "cell-sub" },
          p.ocpp_version ? `OCPP ${p.ocpp_version}` : t("never connected"),
          p.password_protected ? h("span", { class: "lock", title: t("Station password set (HTTP Basic)") }, " · ", t("password")) : null,
        ),
      ),
      h("td", {}, onlineBadge(p.online)),
      h("td", {}, h("div", { class: "stack-sm" }, registrationBadge(p.registration_status), p.admission !== "Accepted" ? registrationButtons(p, () => stations.reloadStation(p.id)) : null)),
      h("td", {}, p.boot ? h("div", {}, p.boot.vendor, h("div", { class: "cell-sub" }, p.boot.model)) : h("span", { class: "muted" }, t("No boot yet"))),
      h("td", {}, dash(siteName(p.site_id))),
      h("td", { class: "mono" }, dash(p.boot && p.boot.firmware_version)),
      h("td", {}, timeAgo(p.last_heartbeat_at)),
      h("td", {}, connectorChips(p.connectors, p.online)),
    );
    tr.addEventListener("click", (event) => {
      if (event.target.closest("button, a, input, select")) return;
      openedFromList = true;
      navigate("charge-points", p.id);
    });
    return tr;
  }

  let shown = new Set(); // ids on the page now
  let lastPage = null;

  /** Only the rows of one page exist in the DOM, and the server pages, sorts and filters,
   * so 10,000 stations cost what 50 do. */
  async function renderTable() {
    const page = await stations.queryStations(query);
    if (!root) return;
    lastPage = page;
    shown = new Set(page.items.map((p) => p.id));
    if (!page.items.length && page.total > 0 && query.offset > 0) {
      navigate("charge-points", null, routeQuery({ offset: 0 }), { replace: true });
      return;
    }
    const anyStation = page.total > 0 || (networkTotal && networkTotal.stations > 0);
    renderRows(tbody, page.items, (p) => p.id, row, 8, anyStation ? t("No charge point matches the search or filter.") : t("No charge points yet."));
    renderSummary(page);
    setChildren(pager, pagination({ total: page.total, limit: query.limit, offset: query.offset, sizes: [25, 50, 100, 200, 500], onChange: (next) => navigate("charge-points", null, routeQuery(next)) }));
    const vendors = [["", t("Any vendor")], ...page.vendors.map((v) => [v, v])];
    if (form.vendor.dataset.signature !== JSON.stringify(vendors)) {
      form.vendor.dataset.signature = JSON.stringify(vendors);
      setChildren(form.vendor, vendors.map(([value, label]) => h("option", { value, selected: value === query.vendor }, label)));
    }
  }

  /** Counts of the whole network come from the server's summary, read with the page. */
  function renderSummary(page) {
    if (!networkTotal) return;
    const filtered = page.total !== networkTotal.stations;
    summary.textContent = [
      tn(networkTotal.stations, "{count} charge point", "{count} charge points"),
      t("{count} online", { count: formatNumber(networkTotal.online, 0) }),
      filtered ? tn(page.total, "{count} match", "{count} matches") : null,
    ]
      .filter(Boolean)
      .join(" · ");
  }

  /** Rows on the page follow the store (patched by the event stream) at once, without
   * asking the server; a change elsewhere may move stations in or out of the page, so the
   * page is read again, at most once a second (stations come and go in bursts). */
  function onStationsChanged(ids) {
    if (ids && lastPage && ids.every((id) => shown.has(id))) {
      const items = lastPage.items.map((p) => stations.station(p.id) || p);
      lastPage = { ...lastPage, items };
      renderRows(tbody, items, (p) => p.id, row, 8, t("No charge point matches the search or filter."));
      renderSummary(lastPage);
      return;
    }
    scheduleRender();
  }

  function scheduleRender() {
    if (renderTimer) return;
    renderTimer = setTimeout(() => {
      renderTimer = null;
      renderTable().catch((error) => root && setChildren(errorSlot, errorBox(error)));
    }, 1000);
  }

  async function loadSites() {
    const [sites, counted] = await Promise.all([get("/api/sites", { limit: 500 }), get("/api/overview")]);
    siteChoices = sites.items;
    networkTotal = counted.total;
    const options = [["", t("Any site")], ["none", t("No site")], ...siteChoices.map((s) => [String(s.id), s.name])];
    setChildren(form.site, options.map(([value, label]) => h("option", { value, selected: value === query.site }, label)));
  }

  async function load() {
    await loadSites();
    if (!root) return;
    errorSlot.replaceChildren();
    await renderTable();
    if (detail) await detail.refresh();
  }

  const refresh = singleFlight(load, (error) => {
    if (root) setChildren(errorSlot, errorBox(error));
  });

  function fillForm() {
    form.search.value = query.q;
    form.filter.value = query.status;
    form.site.value = query.site;
    form.sort.value = query.sort;
    form.order.value = query.order;
  }

  function openCreateDialog() {
    const id = h("input", { class: "input mono", required: true, maxlength: 48, autocomplete: "off", spellcheck: "false", placeholder: "CP-1" });
    const registration = select(
      [
        ["Accepted", t("Accepted: may connect right away")],
        ["Pending", t("Pending: boots get Pending until accepted")],
        ["Rejected", t("Rejected")],
      ],
      "Accepted",
      { class: "input" },
    );
    const password = passwordInput({ placeholder: t("optional, 16–40 characters") });
    const errors = h("div", { class: "form-errors" });
    const submit = button(t("Add charge point"), { kind: "primary", type: "submit" });
    const form = h(
      "form",
      { class: "form" },
      field(t("Charge point id"), id, { hint: t("The last path segment of the OCPP WebSocket URL the station connects to") }),
      field(t("Registration"), registration),
      field(t("Station password"), h("div", { class: "input-group" }, password, button(t("Generate"), { size: "sm", onClick: () => { password.value = randomPassword(); } })), {
        hint: t("HTTP Basic password the station must present (Security Profile 1). Leave empty for none."),
      }),
      errors,
      h("div", { class: "form-actions" }, button(t("Cancel"), { onClick: () => handle.close() }), submit),
    );
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      errors.replaceChildren();
      submit.disabled = true;
      try {
        const created = await post("/api/charge-points", {
          id: id.value.trim(),
          registration_status: registration.value,
          password: password.value ? password.value : null,
        });
        toast(t("{id} can now connect.", { id: created.id }), { title: t("Charge point added") });
        handle.close();
        await stations.reloadStation(created.id);
      } catch (error) {
        errors.append(errorBox(error));
      } finally {
        submit.disabled = false;
      }
    });
    const handle = openDialog({ title: t("Add a charge point"), content: form });
    id.focus();
  }

  function openDetail(id, initialTab) {
    const header = h("div", { class: "detail-badges" });
    const actions = h("div", { class: "detail-actions" });
    const overview = h("div", { class: "detail-section" });
    const connectorsBody = h("tbody");
    const historyBody = h("tbody");
    const eventsBody = h("tbody");
    const historyMore = h("div", { class: "more" });
    const eventsMore = h("div", { class: "more" });
    const security = h("div", { class: "detail-section security" });
    const errorArea = h("div");
    const connectorFilter = h("select", { class: "input input-sm", "aria-label": t("Connector") }, h("option", { value: "" }, t("All connectors")));
    let historyLimit = PAGE_STEP;
    let eventsLimit = PAGE_STEP;
    let station = null;

    connectorFilter.addEventListener("change", () => {
      historyBody._rows = null;
      current.refresh();
    });

    const passwordField = passwordInput({ placeholder: "16–40 characters", required: true });
    const passwordErrors = h("div", { class: "form-errors" });
    const passwordNote = h("div");
    const setButton = button(t("Set password"), { kind: "primary", type: "submit" });
    const removeButton = button(t("Remove password"), { kind: "danger-outline" });
    const passwordState = h("div");
    const passwordForm = h(
      "form",
      { class: "form" },
      field(t("New station password"), h("div", { class: "input-group" }, passwordField, button(t("Generate"), { size: "sm", onClick: () => { passwordField.value = randomPassword(); passwordField.select(); } })), {
        hint: t("The station must send it as HTTP Basic auth (its AuthorizationKey). The current connection stays open."),
      }),
      passwordErrors,
      passwordNote,
      h("div", { class: "form-actions" }, removeButton, setButton),
    );
    passwordForm.addEventListener("submit", async (event) => {
      event.preventDefault();
      passwordErrors.replaceChildren();
      passwordNote.replaceChildren();
      setButton.disabled = true;
      try {
        await put(`/api/charge-points/${enc(id)}/password`, { password: passwordField.value });
        passwordNote.append(h("div", { class: "alert alert-ok", role: "status" }, h("strong", { class: "alert-title" }, t("Password set")), h("p", {}, t("Configure the station with exactly this password before it reconnects; it is stored hashed and cannot be shown again."))));
        await current.refresh();
      } catch (error) {
        passwordErrors.append(errorBox(error));
      } finally {
        setButton.disabled = false;
      }
    });
    removeButton.addEventListener("click", async () => {
      const sure = await confirmDialog({
        title: t("Remove the password of {id}?", { id }),
        message: t("Any client that knows the station id could then connect as this station."),
        confirmLabel: t("Remove password"),
        danger: true,
      });
      if (!sure) return;
      passwordErrors.replaceChildren();
      passwordNote.replaceChildren();
      await busy(removeButton, async () => {
        await put(`/api/charge-points/${enc(id)}/password`, { password: null });
        toast(t("{id} no longer needs a password.", { id }), { title: t("Password removed"), tone: "warn" });
        await current.refresh();
      });
    });
    const profileSelect = select(
      [
        ["1", t("1 · plain WebSocket, with its password if one is set")],
        ["2", t("2 · TLS, with its password")],
        ["3", t("3 · TLS, with a client certificate")],
      ],
      "1",
      { class: "input" },
    );
    const profileErrors = h("div", { class: "form-errors" });
    const profileButton = button(t("Apply profile"), { kind: "primary", type: "submit" });
    const profileForm = h(
      "form",
      { class: "form" },
      field(t("Security profile"), profileSelect, {
        hint: t("How the station must connect from now on; other connections are refused. Configure the station first (docs/operator-guide.md)."),
      }),
      profileErrors,
      h("div", { class: "form-actions" }, profileButton),
    );
    profileForm.addEventListener("submit", async (event) => {
      event.preventDefault();
      profileErrors.replaceChildren();
      const profile = Number(profileSelect.value);
      if (station && station.security_profile === profile) return;
      const sure = await confirmDialog({
        title: t("Require security profile {n} of {id}?", { n: profile, id }),
        message: t("A station not yet set up for it is refused at its next connection."),
        confirmLabel: t("Apply profile"),
        danger: true,
      });
      if (!sure) return;
      await busy(profileButton, async () => {
        try {
          await put(`/api/charge-points/${enc(id)}/security-profile`, { security_profile: profile });
          toast(t("{id} now needs security profile {n}.", { id, n: profile }), { title: t("Security profile changed") });
          await current.refresh();
        } catch (error) {
          profileErrors.append(errorBox(error));
        }
      });
    });
    security.append(passwordState, passwordForm, h("h3", {}, t("Security profile")), profileForm);

    const powerSlot = h("div", { class: "chart-slot" }, h("p", { class: "muted loading" }, t("Loading…")));
    let powerReadAt = 0;
    /** The station's power chart, read at most once a minute (station events come often). */
    async function loadPower() {
      if (Date.now() - powerReadAt < 60_000) return;
      powerReadAt = Date.now();
      try {
        const answer = await get(`/api/charge-points/${enc(id)}/power`, { hours: 24 });
        setChildren(powerSlot, stationPowerChart(answer.points));
      } catch (error) {
        setChildren(powerSlot, errorBox(error));
      }
    }

    function renderStation(cp) {
      station = cp;
      remote.update(cp);
      tabset.setHidden("device-model", !ctx.is201());
      if (current.wantedTab === "device-model" && ctx.is201()) tabset.show("device-model", { silent: true });
      current.wantedTab = null;
      setChildren(header, onlineBadge(cp.online), registrationBadge(cp.registration_status), cp.ocpp_version ? badge(`OCPP ${cp.ocpp_version}`, "muted") : null, cp.password_protected ? badge(t("Password"), "teal") : null);
      setChildren(
        actions,
        registrationButtons(cp, current.refresh, { size: "" }),
        h("a", { class: "btn", href: hashFor("transactions", null, { charge_point_id: cp.id }) }, t("Transactions")),
      );
      const boot = cp.boot || {};
      setChildren(
        overview,
        h(
          "div",
          { class: "detail-grid" },
          h(
            "section",
            {},
            h("h3", {}, t("Status")),
            definitionList([
              [t("Connection"), onlineBadge(cp.online)],
              [t("Site"), siteControl(cp, () => current.refresh())],
              [t("Last message"), timeAgo(cp.last_heartbeat_at)],
              [t("Last boot"), timeExact(cp.last_boot_at)],
              [t("Known since"), timeExact(cp.created_at)],
              [t("Firmware status"), cp.firmware_status],
              [t("Diagnostics status"), cp.diagnostics_status],
            ]),
          ),
          h(
            "section",
            {},
            h("h3", {}, t("Boot information")),
            cp.boot
              ? definitionList([
                  [t("Vendor"), boot.vendor],
                  [t("Model"), boot.model],
                  [t("Serial number"), boot.serial_number],
                  [t("Charge box serial"), boot.charge_box_serial_number],
                  [t("Firmware"), boot.firmware_version],
                  [t("Meter type"), boot.meter_type],
                  [t("Meter serial"), boot.meter_serial_number],
                  [t("ICCID"), boot.iccid],
                  [t("IMSI"), boot.imsi],
                ])
              : h("p", { class: "muted" }, t("The station has not sent a BootNotification yet.")),
          ),
        ),
        h("h3", {}, t("Connectors")),
        cp.online ? null : h("p", { class: "alert alert-warn" }, h("strong", {}, t("Station offline.")), " ", t("These are the states it reported before it went offline, not its current state.")),
        table(["#", t("Status"), t("Error code"), t("Info"), t("Vendor error"), t("Since")], connectorsBody, { caption: t("Connectors"), className: "table-compact" }),
        h("h3", {}, t("Charging, last 24 hours")),
        powerSlot,
      );
      loadPower();
      renderRows(
        connectorsBody,
        cp.connectors,
        (c) => c.connector_id,
        (c) =>
          h(
            "tr",
            {},
            h("td", {}, c.connector_id === 0 ? t("0 (station)") : String(c.connector_id)),
            h("td", {}, connectorBadge(c.status, { stale: !cp.online })),
            h("td", { class: hasError(c) && cp.online ? "text-danger strong" : "muted" }, c.error_code),
            h("td", {}, dash(c.info)),
            h("td", {}, dash([c.vendor_id, c.vendor_error_code].filter(Boolean).join(" · "))),
            h("td", {}, timeAgo(c.reported_at)),
          ),
        6,
        t("No connector has reported a status yet."),
      );
      const known = new Set([...connectorFilter.options].map((o) => o.value));
      for (const c of cp.connectors) {
        if (!known.has(String(c.connector_id))) {
          connectorFilter.append(h("option", { value: String(c.connector_id) }, c.connector_id === 0 ? t("Connector 0 (station)") : t("Connector {id}", { id: c.connector_id })));
        }
      }
      setChildren(
        passwordState,
        cp.password_protected
          ? h("p", { class: "alert alert-ok" }, h("strong", {}, t("Password protected."), " "), t("The station must authenticate with HTTP Basic auth (Security Profile 1)."))
          : h("p", { class: "alert alert-warn" }, h("strong", {}, t("No password."), " "), t("Any client that knows this id can connect as this station.")),
      );
      removeButton.hidden = !cp.password_protected;
      if (cp.security_profile && document.activeElement !== profileSelect) profileSelect.value = String(cp.security_profile);
    }

    function renderHistory(changes) {
      renderRows(
        historyBody,
        changes,
        (c) => `${c.received_at}|${c.connector_id}|${c.status}|${c.error_code}`,
        (c) =>
          h(
            "tr",
            {},
            h("td", {}, timeExact(c.reported_at)),
            h("td", {}, String(c.connector_id)),
            h("td", {}, connectorBadge(c.status)),
            h("td", { class: hasError(c) ? "text-danger strong" : "muted" }, c.error_code),
            h("td", {}, dash([c.info, c.vendor_id, c.vendor_error_code].filter(Boolean).join(" · "))),
          ),
        5,
        t("No status changes recorded."),
      );
      setChildren(
        historyMore,
        changes.length >= historyLimit && historyLimit < 1000
          ? button(t("Show older"), { size: "sm", onClick: () => { historyLimit = Math.min(1000, historyLimit + PAGE_STEP); current.refresh(); } })
          : null,
      );
    }

    function renderEvents(events) {
      renderRows(
        eventsBody,
        events,
        (e) => e.id ?? `${e.occurred_at}|${e.kind}`,
        (e) =>
          h(
            "tr",
            {},
            h("td", { class: "nowrap" }, timeExact(e.occurred_at)),
            h("td", {}, badge(e.kind.replaceAll("_", " "), EVENT_TONES[e.kind] || "muted")),
            h("td", {}, eventDetail(e.detail)),
          ),
        3,
        t("No events recorded."),
      );
      setChildren(
        eventsMore,
        events.length >= eventsLimit && eventsLimit < 1000
          ? button(t("Show older"), { size: "sm", onClick: () => { eventsLimit = Math.min(1000, eventsLimit + PAGE_STEP); current.refresh(); } })
          : null,
      );
    }

    const base = `/api/charge-points/${enc(id)}`;
    const current = {
      id,
      async load() {
        try {
          const [cp, history, events] = await Promise.all([
            get(base),
            get(`${base}/status-history`, { limit: historyLimit, connector_id: connectorFilter.value }),
            get(`${base}/events`, { limit: eventsLimit }),
          ]);
          errorArea.replaceChildren();
          renderStation(cp);
          renderHistory(history);
          renderEvents(events);
          const shown = tabset.selected();
          if (shown === "remote") await remote.refresh();
          if (shown === "commands") await commands.refresh();
        } catch (error) {
          setChildren(errorArea, errorBox(error));
          if (!station) setChildren(overview, emptyState(t("Charge point not available"), t("It may have been removed, or the id is wrong.")));
        }
      },
      refresh: singleFlight(() => current.load()),
      /** Events about this station: read it again, once per burst. */
      scheduleRefresh() {
        if (current.timer) return;
        current.timer = setTimeout(() => {
          current.timer = null;
          current.refresh();
        }, 1000);
      },
      timer: null,
      handle: null,
    };

    const ctx = {
      id,
      base,
      station: () => station,
      is201: () => Boolean(station && station.ocpp_version && station.ocpp_version.startsWith("2")),
      connectorIds() {
        const ids = station ? station.connectors.map((c) => c.connector_id).filter((n) => n > 0) : [];
        return ids.length ? ids.sort((a, b) => a - b) : [1];
      },
      canWrite: () => Boolean(getToken()),
      changed() {
        current.refresh();
        commands.refresh();
      },
    };
    const remote = remotePanel(ctx);
    const commands = commandLog(ctx);
    const diagnosis = diagnosisPanel(ctx);
    const deviceModel = deviceModelPanel(ctx);
    const tabset = tabs(
      [
        { key: "overview", label: t("Overview"), content: overview },
        { key: "remote", label: t("Remote"), content: remote.node, onShow: () => remote.refresh() },
        { key: "commands", label: t("Commands"), content: commands.node, onShow: () => commands.refresh() },
        { key: "diagnosis", label: t("Diagnosis"), content: diagnosis.node, onShow: () => diagnosis.refresh() },
        { key: "device-model", label: t("Device model"), content: deviceModel.node, onShow: () => deviceModel.refresh(), hidden: true },
        {
          key: "history",
          label: t("History"),
          content: [
            h("div", { class: "toolbar" }, connectorFilter),
            table([t("Reported"), t("Connector"), t("Status"), t("Error code"), t("Info")], historyBody, { caption: t("Status history"), className: "table-compact" }),
            historyMore,
          ],
        },
        {
          key: "events",
          label: t("Events"),
          content: [table([t("Time"), t("Event"), t("Detail")], eventsBody, { caption: t("Station events"), className: "table-compact" }), eventsMore],
        },
        { key: "security", label: t("Security"), content: security },
      ],
      {
        selected: TABS.includes(initialTab) && initialTab !== "device-model" ? initialTab : "overview",
        onChange: (key) => {
          const route = parseRoute();
          if (route.name === "charge-points" && route.id === id) {
            history.replaceState(null, "", hashFor("charge-points", id, key === "overview" ? null : { tab: key }));
          }
        },
      },
    );
    current.tabset = tabset;
    current.wantedTab = initialTab;

    current.handle = openDialog({
      title: id,
      subtitle: header,
      drawer: true,
      content: [errorArea, actions, tabset.node],
      onClose: () => {
        if (detail === current) detail = null;
        const route = parseRoute();
        if (route.name === "charge-points" && route.id === id) {
          if (openedFromList) history.back();
          else navigate("charge-points", null, null, { replace: true });
        }
        openedFromList = false;
      },
    });
    setChildren(overview, h("p", { class: "muted" }, t("Loading…")));
    detail = current;
    current.refresh();
  }

  function syncDetail(route) {
    const tab = route.query.get("tab") || "overview";
    if (route.id && detail && detail.id === route.id) {
      if (detail.tabset.selected() !== tab) {
        detail.wantedTab = tab;
        detail.tabset.show(tab, { silent: true });
      }
    } else if (route.id && (!detail || detail.id !== route.id)) {
      if (detail) {
        const previous = detail;
        detail = null;
        previous.handle.close();
      }
      openDetail(route.id, tab);
    } else if (!route.id && detail) {
      const previous = detail;
      detail = null;
      previous.handle.close();
    }
  }

  return {
    title: t("Charge points"),
    mount(container, route) {
      query = listQuery(route.query);
      form.search = h("input", { type: "search", class: "input", placeholder: t("Id, vendor, model, serial…"), "aria-label": t("Search charge points") });
      let typing = null;
      form.search.addEventListener("input", () => {
        clearTimeout(typing);
        typing = setTimeout(() => navigate("charge-points", null, routeQuery({ q: form.search.value.trim(), offset: 0 }), { replace: true }), 250);
      });
      form.filter = select(FILTERS, query.status, { class: "input", "aria-label": t("Filter charge points") });
      form.filter.addEventListener("change", () => navigate("charge-points", null, routeQuery({ status: form.filter.value, offset: 0 })));
      form.vendor = select([["", t("Any vendor")]], query.vendor, { class: "input", "aria-label": t("Vendor") });
      form.vendor.addEventListener("change", () => navigate("charge-points", null, routeQuery({ vendor: form.vendor.value, offset: 0 })));
      form.site = select([["", t("Any site")], ["none", t("No site")]], query.site, { class: "input", "aria-label": t("Site") });
      form.site.addEventListener("change", () => navigate("charge-points", null, routeQuery({ site: form.site.value, offset: 0 })));
      form.sort = select(SORTS, query.sort, { class: "input", "aria-label": t("Sort by") });
      form.sort.addEventListener("change", () => navigate("charge-points", null, routeQuery({ sort: form.sort.value, offset: 0 })));
      form.order = select([["asc", t("Ascending")], ["desc", t("Descending")]], query.order, { class: "input", "aria-label": t("Order") });
      form.order.addEventListener("change", () => navigate("charge-points", null, routeQuery({ order: form.order.value, offset: 0 })));
      root = h(
        "div",
        { class: "view" },
        h(
          "div",
          { class: "view-header" },
          h("div", {}, h("h1", {}, t("Charge points")), summary),
          button(t("Add charge point"), { kind: "primary", onClick: openCreateDialog }),
        ),
        h("div", { class: "toolbar" }, form.search, form.filter, form.vendor, form.site, form.sort, form.order),
        errorSlot,
        h(
          "div",
          { class: "panel panel-flush" },
          table([t("Charge point"), t("Connection"), t("Registration"), t("Vendor · model"), t("Site"), t("Firmware"), t("Last heartbeat"), t("Connectors")], tbody, { caption: t("Charge points") }),
          pager,
        ),
      );
      container.append(root);
      fillForm();
      unsubscribe = stations.subscribe(onStationsChanged);
      syncDetail(route);
    },
    update(route) {
      const next = listQuery(route.query);
      if (JSON.stringify(next) !== JSON.stringify(query)) {
        query = next;
        fillForm();
        renderTable().catch((error) => root && setChildren(errorSlot, errorBox(error)));
      }
      syncDetail(route);
    },
    refresh,
    onEvent(type, data) {
      // The list follows the store (subscribed above); an open station re-reads itself.
      if (detail && data.charge_point_id === detail.id) detail.scheduleRefresh();
    },
    unmount() {
      root = null;
      clearTimeout(renderTimer);
      renderTimer = null;
      if (unsubscribe) unsubscribe();
      if (detail) {
        const previous = detail;
        detail = null;
        previous.handle.close();
      }
    },
  };
}
