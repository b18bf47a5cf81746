// Charge points: the inventory table, registration decisions and a detail drawer per station.

import { enc, get, getToken, post, put } from "../api.js";
import { h, renderRows, setChildren, truncate } from "../dom.js";
import { hashFor, navigate, parseRoute } from "../router.js";
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
  registrationBadge,
  select,
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

const FILTERS = [
  ["all", "All stations"],
  ["online", "Online"],
  ["offline", "Offline"],
  ["pending", "Pending registration"],
  ["rejected", "Rejected"],
  ["faulted", "With a faulted connector"],
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

const naturalCompare = new Intl.Collator(undefined, { numeric: true, sensitivity: "base" }).compare;

function hasError(connector) {
  return connector.error_code && connector.error_code !== "NoError";
}

function connectorChips(connectors) {
  const shown = connectors.filter(
    (c) => c.connector_id > 0 || c.status === "Faulted" || c.status === "Unavailable" || hasError(c),
  );
  if (!shown.length) return h("span", { class: "muted" }, "No status yet");
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

function matches(point, search, filter) {
  if (search) {
    const haystack = [
      point.id,
      point.boot && point.boot.vendor,
      point.boot && point.boot.model,
      point.boot && point.boot.serial_number,
      point.boot && point.boot.charge_box_serial_number,
      point.boot && point.boot.firmware_version,
    ]
      .filter(Boolean)
      .join(" ")
      .toLowerCase();
    if (!haystack.includes(search.toLowerCase())) return false;
  }
  switch (filter) {
    case "online":
      return point.online;
    case "offline":
      return !point.online;
    case "pending":
      return point.registration_status === "Pending";
    case "rejected":
      return point.registration_status === "Rejected";
    case "faulted":
      return point.connectors.some((c) => c.status === "Faulted");
    default:
      return true;
  }
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

export function chargePointsView() {
  let root = null;
  let points = [];
  let inFlight = null;
  let detail = null;
  let openedFromList = false;
  const state = { search: "", filter: "all" };
  const tbody = h("tbody");
  const errorSlot = h("div", { class: "error-slot" });
  const summary = h("p", { class: "view-lede" }, "Loading…");

  function renderTable() {
    const visible = points.filter((p) => matches(p, state.search, state.filter));
    renderRows(
      tbody,
      visible,
      (p) => p.id,
      (p) => {
        const link = h("a", { href: hashFor("charge-points", p.id), class: "mono strong", on: { click: () => { if (detail === null) openedFromList = true; } } }, p.id);
        const row = h(
          "tr",
          { class: "clickable" },
          h(
            "td",
            {},
            link,
            h(
              "div",
              { class: "cell-sub" },
              p.ocpp_version ? `OCPP ${p.ocpp_version}` : "never connected",
              p.password_protected ? h("span", { class: "lock", title: "Station password set (HTTP Basic)" }, " · password") : null,
            ),
          ),
          h("td", {}, onlineBadge(p.online)),
          h("td", {}, h("div", { class: "stack-sm" }, registrationBadge(p.registration_status), p.registration_status !== "Accepted" ? registrationButtons(p, refresh) : null)),
          h(
            "td",
            {},
            p.boot ? h("div", {}, p.boot.vendor, h("div", { class: "cell-sub" }, p.boot.model)) : h("span", { class: "muted" }, "No boot yet"),
          ),
          h("td", { class: "mono" }, dash(p.boot && p.boot.firmware_version)),
          h("td", {}, timeAgo(p.last_heartbeat_at)),
          h("td", {}, connectorChips(p.connectors)),
        );
        row.addEventListener("click", (event) => {
          if (event.target.closest("button, a, input, select")) return;
          openedFromList = true;
          navigate("charge-points", p.id);
        });
        return row;
      },
      7,
      points.length ? "No charge point matches the search or filter." : "No charge points yet.",
    );
    const online = points.filter((p) => p.online).length;
    summary.textContent =
      `${points.length} charge point${points.length === 1 ? "" : "s"} · ${online} online` +
      (visible.length !== points.length ? ` · ${visible.length} shown` : "");
  }

  async function load() {
    points = (await get("/api/charge-points")).sort((a, b) => naturalCompare(a.id, b.id));
    if (!root) return;
    errorSlot.replaceChildren();
    renderTable();
    if (detail) await detail.refresh();
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

  function openCreateDialog() {
    const id = h("input", { class: "input mono", required: true, maxlength: 48, autocomplete: "off", spellcheck: "false", placeholder: "CP-1" });
    const registration = select(
      [
        ["Accepted", "Accepted: may connect right away"],
        ["Pending", "Pending: boots get Pending until accepted"],
        ["Rejected", "Rejected"],
      ],
      "Accepted",
      { class: "input" },
    );
    const password = passwordInput({ placeholder: "optional, 16–40 characters" });
    const errors = h("div", { class: "form-errors" });
    const submit = button("Add charge point", { kind: "primary", type: "submit" });
    const form = h(
      "form",
      { class: "form" },
      field("Charge point id", id, { hint: "The last path segment of the OCPP WebSocket URL the station connects to" }),
      field("Registration", registration),
      field("Station password", h("div", { class: "input-group" }, password, button("Generate", { size: "sm", onClick: () => { password.value = randomPassword(); } })), {
        hint: "HTTP Basic password the station must present (Security Profile 1). Leave empty for none.",
      }),
      errors,
      h("div", { class: "form-actions" }, button("Cancel", { onClick: () => handle.close() }), submit),
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
        toast(`${created.id} can now connect.`, { title: "Charge point added" });
        handle.close();
        await refresh();
      } catch (error) {
        errors.append(errorBox(error));
      } finally {
        submit.disabled = false;
      }
    });
    const handle = openDialog({ title: "Add a charge point", content: form });
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
    const connectorFilter = h("select", { class: "input input-sm", "aria-label": "Connector" }, h("option", { value: "" }, "All connectors"));
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
    const setButton = button("Set password", { kind: "primary", type: "submit" });
    const removeButton = button("Remove password", { kind: "danger-outline" });
    const passwordState = h("div");
    const passwordForm = h(
      "form",
      { class: "form" },
      field("New station password", h("div", { class: "input-group" }, passwordField, button("Generate", { size: "sm", onClick: () => { passwordField.value = randomPassword(); passwordField.select(); } })), {
        hint: "The station must send it as HTTP Basic auth (its AuthorizationKey). The current connection stays open.",
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
        passwordNote.append(h("div", { class: "alert alert-ok", role: "status" }, h("strong", { class: "alert-title" }, "Password set"), h("p", {}, "Configure the station with exactly this password before it reconnects; it is stored hashed and cannot be shown again.")));
        await current.refresh();
      } catch (error) {
        passwordErrors.append(errorBox(error));
      } finally {
        setButton.disabled = false;
      }
    });
    removeButton.addEventListener("click", async () => {
      const sure = await confirmDialog({
        title: `Remove the password of ${id}?`,
        message: "Any client that knows the station id could then connect as this station.",
        confirmLabel: "Remove password",
        danger: true,
      });
      if (!sure) return;
      passwordErrors.replaceChildren();
      passwordNote.replaceChildren();
      await busy(removeButton, async () => {
        await put(`/api/charge-points/${enc(id)}/password`, { password: null });
        toast(`${id} no longer needs a password.`, { title: "Password removed", tone: "warn" });
        await current.refresh();
      });
    });
    security.append(passwordState, passwordForm);

    function renderStation(cp) {
      station = cp;
      remote.update(cp);
      tabset.setHidden("device-model", !ctx.is201());
      if (current.wantedTab === "device-model" && ctx.is201()) tabset.show("device-model", { silent: true });
      current.wantedTab = null;
      setChildren(header, onlineBadge(cp.online), registrationBadge(cp.registration_status), cp.ocpp_version ? badge(`OCPP ${cp.ocpp_version}`, "muted") : null, cp.password_protected ? badge("Password", "teal") : null);
      setChildren(
        actions,
        registrationButtons(cp, current.refresh, { size: "" }),
        h("a", { class: "btn", href: hashFor("transactions", null, { charge_point_id: cp.id }) }, "Transactions"),
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
            h("h3", {}, "Status"),
            definitionList([
              ["Connection", onlineBadge(cp.online)],
              ["Last message", timeAgo(cp.last_heartbeat_at)],
              ["Last boot", timeExact(cp.last_boot_at)],
              ["Known since", timeExact(cp.created_at)],
              ["Firmware status", cp.firmware_status],
              ["Diagnostics status", cp.diagnostics_status],
            ]),
          ),
          h(
            "section",
            {},
            h("h3", {}, "Boot information"),
            cp.boot
              ? definitionList([
                  ["Vendor", boot.vendor],
                  ["Model", boot.model],
                  ["Serial number", boot.serial_number],
                  ["Charge box serial", boot.charge_box_serial_number],
                  ["Firmware", boot.firmware_version],
                  ["Meter type", boot.meter_type],
                  ["Meter serial", boot.meter_serial_number],
                  ["ICCID", boot.iccid],
                  ["IMSI", boot.imsi],
                ])
              : h("p", { class: "muted" }, "The station has not sent a BootNotification yet."),
          ),
        ),
        h("h3", {}, "Connectors"),
        table(["#", "Status", "Error code", "Info", "Vendor error", "Since"], connectorsBody, { caption: "Connectors", className: "table-compact" }),
      );
      renderRows(
        connectorsBody,
        cp.connectors,
        (c) => c.connector_id,
        (c) =>
          h(
            "tr",
            {},
            h("td", {}, c.connector_id === 0 ? "0 (station)" : String(c.connector_id)),
            h("td", {}, connectorBadge(c.status)),
            h("td", { class: hasError(c) ? "text-danger strong" : "muted" }, c.error_code),
            h("td", {}, dash(c.info)),
            h("td", {}, dash([c.vendor_id, c.vendor_error_code].filter(Boolean).join(" · "))),
            h("td", {}, timeAgo(c.reported_at)),
          ),
        6,
        "No connector has reported a status yet.",
      );
      const known = new Set([...connectorFilter.options].map((o) => o.value));
      for (const c of cp.connectors) {
        if (!known.has(String(c.connector_id))) {
          connectorFilter.append(h("option", { value: String(c.connector_id) }, c.connector_id === 0 ? "Connector 0 (station)" : `Connector ${c.connector_id}`));
        }
      }
      setChildren(
        passwordState,
        cp.password_protected
          ? h("p", { class: "alert alert-ok" }, h("strong", {}, "Password protected. "), "The station must authenticate with HTTP Basic auth (Security Profile 1).")
          : h("p", { class: "alert alert-warn" }, h("strong", {}, "No password. "), "Any client that knows this id can connect as this station."),
      );
      removeButton.hidden = !cp.password_protected;
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
        "No status changes recorded.",
      );
      setChildren(
        historyMore,
        changes.length >= historyLimit && historyLimit < 1000
          ? button("Show older", { size: "sm", onClick: () => { historyLimit = Math.min(1000, historyLimit + PAGE_STEP); current.refresh(); } })
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
        "No events recorded.",
      );
      setChildren(
        eventsMore,
        events.length >= eventsLimit && eventsLimit < 1000
          ? button("Show older", { size: "sm", onClick: () => { eventsLimit = Math.min(1000, eventsLimit + PAGE_STEP); current.refresh(); } })
          : null,
      );
    }

    const base = `/api/charge-points/${enc(id)}`;
    const current = {
      id,
      inFlight: null,
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
          if (!station) setChildren(overview, emptyState("Charge point not available", "It may have been removed, or the id is wrong."));
        }
      },
      refresh() {
        if (!current.inFlight) {
          current.inFlight = current.load().finally(() => {
            current.inFlight = null;
          });
        }
        return current.inFlight;
      },
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
        { key: "overview", label: "Overview", content: overview },
        { key: "remote", label: "Remote", content: remote.node, onShow: () => remote.refresh() },
        { key: "commands", label: "Commands", content: commands.node, onShow: () => commands.refresh() },
        { key: "diagnosis", label: "Diagnosis", content: diagnosis.node, onShow: () => diagnosis.refresh() },
        { key: "device-model", label: "Device model", content: deviceModel.node, onShow: () => deviceModel.refresh(), hidden: true },
        {
          key: "history",
          label: "History",
          content: [
            h("div", { class: "toolbar" }, connectorFilter),
            table(["Reported", "Connector", "Status", "Error code", "Info"], historyBody, { caption: "Status history", className: "table-compact" }),
            historyMore,
          ],
        },
        {
          key: "events",
          label: "Events",
          content: [table(["Time", "Event", "Detail"], eventsBody, { caption: "Station events", className: "table-compact" }), eventsMore],
        },
        { key: "security", label: "Security", content: security },
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
    setChildren(overview, h("p", { class: "muted" }, "Loading…"));
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
    title: "Charge points",
    mount(container, route) {
      const search = h("input", { type: "search", class: "input", placeholder: "Id, vendor, model, serial…", "aria-label": "Search charge points" });
      search.addEventListener("input", () => {
        state.search = search.value.trim();
        renderTable();
      });
      const filter = select(FILTERS, state.filter, { class: "input", "aria-label": "Filter charge points" });
      filter.addEventListener("change", () => {
        state.filter = filter.value;
        renderTable();
      });
      root = h(
        "div",
        { class: "view" },
        h(
          "div",
          { class: "view-header" },
          h("div", {}, h("h1", {}, "Charge points"), summary),
          button("Add charge point", { kind: "primary", onClick: openCreateDialog }),
        ),
        h("div", { class: "toolbar" }, search, filter),
        errorSlot,
        h(
          "div",
          { class: "panel panel-flush" },
          table(["Charge point", "Connection", "Registration", "Vendor · model", "Firmware", "Last heartbeat", "Connectors"], tbody, { caption: "Charge points" }),
        ),
      );
      container.append(root);
      syncDetail(route);
    },
    update(route) {
      syncDetail(route);
    },
    refresh,
    unmount() {
      root = null;
      if (detail) {
        const previous = detail;
        detail = null;
        previous.handle.close();
      }
    },
  };
}
