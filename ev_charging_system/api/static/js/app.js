// Entry point: routing between the views, the operator token, the language, live updates
// by push (with a slow poll while the event stream is down) and API health.

import { get, getToken, onTokenChange, setToken, verifyToken } from "./api.js";
import { h } from "./dom.js";
import { formatTime } from "./format.js";
import { LOCALES, locale, setLocale, t, tn } from "./i18n.js";
import { lazyView } from "./lazy-view.js";
import { connectLive } from "./live.js";
import { parseRoute, setRouteHandler } from "./router.js";
import * as stations from "./stations.js";
import { button, errorBox, field, openDialog, reportError, select, singleFlight, tickTimes, toast } from "./ui.js";
import { alarmsView } from "./views/alarms.js";
import { assistantView } from "./views/assistant.js";
import { chargePointsView } from "./views/charge-points.js";
import { idTagsView } from "./views/id-tags.js";
import { overviewView } from "./views/overview.js";
import { reportsView } from "./views/reports.js";
import { transactionsView } from "./views/transactions.js";

/** While the event stream is down, the data is read again this often (and on demand). */
export const FALLBACK_POLL_MS = 60_000;
/** Events arriving in a burst (thousands of stations reconnecting) cause one refresh. */
const EVENT_REFRESH_MS = 2000;
const FIRST_LOAD_WAIT_MS = 1500; // the event stream opens in milliseconds when it is there
const VIEWS = {
  overview: overviewView,
  "charge-points": chargePointsView,
  sites: () => lazyView(() => import("./views/sites.js").then((m) => m.sitesView), t("Sites")),
  transactions: transactionsView,
  "id-tags": idTagsView,
  alarms: alarmsView,
  energy: () => lazyView(() => import("./views/energy.js").then((m) => m.energyView), t("Energy"), ["plan.changed"]),
  reports: reportsView,
  assistant: assistantView,
};

const main = document.getElementById("main");

let current = null; // { name, view }
let liveState = "connecting";
let liveReason = "";
let lastPoll = 0;
let eventTimer = null;

function route() {
  if (location.hash && !location.hash.startsWith("#/")) return; // e.g. the skip link
  const parsed = parseRoute();
  const name = VIEWS[parsed.name] ? parsed.name : "overview";
  for (const link of document.querySelectorAll("[data-nav]")) {
    if (link.dataset.nav === name) link.setAttribute("aria-current", "page");
    else link.removeAttribute("aria-current");
  }
  if (current && current.name === name) {
    current.view.update(parsed);
    return;
  }
  if (current) current.view.unmount();
  const view = VIEWS[name]();
  current = { name, view };
  main.replaceChildren();
  document.title = t("{view} · Operator console", { view: view.title });
  view.mount(main, parsed);
  // The first load waits for the event stream (onLiveState): read after subscribing, so
  // no event falls in between and the page is read once, not again when the stream opens.
  if (lastPoll || liveState !== "connecting") refresh();
}

function markUpdated() {
  document.getElementById("updated-at").textContent = t("Updated {time}", { time: formatTime(new Date(), true) });
}

async function refreshHealth() {
  const node = document.getElementById("health");
  const text = node.querySelector(".health-text");
  try {
    const response = await fetch("/api/health", { cache: "no-store" });
    const body = await response.json();
    const ok = response.ok && body.status === "ok";
    node.dataset.state = ok ? "ok" : "degraded";
    text.textContent = ok ? t("API online") : t("Database unreachable");
    node.title = ok ? t("REST API and database are reachable") : t("The database does not answer");
  } catch {
    node.dataset.state = "down";
    text.textContent = t("API unreachable");
    node.title = t("The REST API does not answer");
  }
}

/** The number of active alarms, next to the Alarms link (hidden when none or unknown). */
async function refreshAlarmCount() {
  const node = document.getElementById("alarm-count");
  try {
    const { total } = await get("/api/alarms", { limit: 1 });
    node.textContent = String(total);
    node.hidden = total === 0;
    node.setAttribute("aria-label", tn(total, "{count} active alarm", "{count} active alarms"));
  } catch {
    node.hidden = true;
  }
}

/** Read what the current view shows (and the health) again; one refresh at a time, and
 * one more when asked during one (a new view, a reconnect: it may have read too early). */
const refreshAll = singleFlight(() => {
  main.setAttribute("aria-busy", "true");
  lastPoll = Date.now();
  return Promise.all([current.view.refresh(), refreshHealth(), refreshAlarmCount()])
    .then(markUpdated, reportError)
    .finally(() => main.removeAttribute("aria-busy"));
});

function refresh() {
  return current ? refreshAll() : Promise.resolve();
}

/** An event from the stream: patch the shared station store, then let the view react. */
function onLiveEvent(type, data) {
  stations.applyEvent(type, data);
  if (type.startsWith("alarm.")) refreshAlarmCount();
  if (!current) return;
  if (typeof current.view.onEvent === "function") {
    current.view.onEvent(type, data);
    return;
  }
  const interested = current.view.events || [];
  if (!interested.some((prefix) => type.startsWith(prefix))) return;
  if (!eventTimer) {
    eventTimer = setTimeout(() => {
      eventTimer = null;
      refresh();
    }, EVENT_REFRESH_MS);
  }
}

function renderLiveState() {
  const node = document.getElementById("live-status");
  const label = node.querySelector(".live-text");
  node.dataset.state = liveState === "live" ? "live" : liveState === "connecting" ? "connecting" : "polling";
  if (liveState === "live") {
    label.textContent = t("Live");
    node.title = t("Changes arrive as they happen (event stream connected). Click to read everything again.");
  } else if (liveState === "connecting") {
    label.textContent = t("Connecting…");
    node.title = t("Connecting to the event stream…");
  } else {
    label.textContent = t("Every 60 s");
    const why = {
      unsupported: t("This server has no event stream yet."),
      unauthorised: t("The event stream needs the operator token."),
      offline: t("The event stream is unreachable; reconnecting."),
    }[liveReason] || "";
    node.title = `${why} ${t("The data is read again every 60 seconds. Click to read it now.")}`.trim();
  }
}

function onLiveState(state, reason = "") {
  const wasLive = liveState === "live";
  liveState = state;
  liveReason = reason;
  renderLiveState();
  // Connected (again): events may have been missed meanwhile, so read everything once.
  if (state === "live" && !wasLive) {
    stations.reloadStations().catch(() => {});
    refresh();
  } else if (state === "down" && !lastPoll) {
    refresh(); // no stream: the first load cannot wait for it
  }
}

function renderTokenButton() {
  const node = document.getElementById("token-button");
  const hasToken = Boolean(getToken());
  node.textContent = hasToken ? t("Operator") : t("Read-only");
  node.classList.toggle("has-token", hasToken);
  node.title = hasToken
    ? t("An operator token is set: changes are allowed. Click to change or forget it.")
    : t("No operator token: you can look but not change. Click to set the API token.");
}

function openTokenDialog() {
  const input = h("input", {
    type: "password",
    class: "input mono",
    autocomplete: "off",
    spellcheck: "false",
    value: getToken(),
    required: true,
  });
  const show = h("input", { type: "checkbox", id: "token-show" });
  show.addEventListener("change", () => {
    input.type = show.checked ? "text" : "password";
  });
  const errors = h("div", { class: "form-errors" });
  const save = button(t("Save token"), { kind: "primary", type: "submit" });
  const forget = button(t("Forget token"), {
    kind: "ghost",
    onClick: () => {
      setToken("");
      toast(t("The dashboard is read-only now."), { title: t("Token forgotten") });
      handle.close();
    },
  });
  const form = h(
    "form",
    { class: "form" },
    h(
      "p",
      { class: "muted" },
      t("Reading is open. Changes (accepting stations, passwords, id tags, remote commands, energy settings) need the API_TOKEN of this server. It is kept in this browser's local storage only."),
    ),
    field(t("API token"), input),
    h("label", { class: "checkbox" }, show, t("Show token")),
    errors,
    h("div", { class: "form-actions" }, getToken() ? forget : null, save),
  );
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const token = input.value.trim();
    if (!token) return;
    errors.replaceChildren();
    save.disabled = true;
    try {
      if (!(await verifyToken(token))) {
        errors.append(
          errorBox({
            title: t("Token refused (401)"),
            message: t("The server does not accept this token. Check API_TOKEN in its settings."),
          }),
        );
        return;
      }
      setToken(token);
      toast(t("Changes are allowed from this browser."), { title: t("Operator token saved") });
      handle.close();
    } catch {
      errors.append(errorBox({ title: t("API unreachable"), message: t("Could not reach the API to check the token.") }));
    } finally {
      save.disabled = false;
    }
  });
  const handle = openDialog({ title: t("Operator API token"), content: form });
  input.focus();
}

/** The page's own texts (navigation, footer) in the chosen language. */
function translateShell() {
  for (const node of document.querySelectorAll("[data-i18n]")) node.textContent = t(node.dataset.i18n);
  for (const node of document.querySelectorAll("[data-i18n-label]")) node.setAttribute("aria-label", t(node.dataset.i18nLabel));
  const picker = select(LOCALES, locale, { id: "language", class: "input input-sm language-select", "aria-label": t("Language") });
  picker.addEventListener("change", () => setLocale(picker.value));
  document.getElementById("language-slot").replaceChildren(picker);
}

function start() {
  translateShell();
  let live = null;
  document.getElementById("token-button").addEventListener("click", openTokenDialog);
  document.getElementById("live-status").addEventListener("click", () => {
    if (liveState !== "live" && live) live.reconnect();
    stations.reloadStations().catch(() => {});
    refresh();
  });
  document.getElementById("skip-link").addEventListener("click", (event) => {
    event.preventDefault();
    main.focus();
  });
  onTokenChange(() => {
    renderTokenButton();
    if (live) live.reconnect();
    refresh();
  });
  renderTokenButton();
  renderLiveState();
  setRouteHandler(route);
  window.addEventListener("hashchange", route);
  // The slow poll runs only while the stream is down (and the page is visible).
  setInterval(() => {
    if (liveState === "live" || document.visibilityState !== "visible") return;
    if (Date.now() - lastPoll < FALLBACK_POLL_MS) return;
    stations.reloadStations().catch(() => {});
    refresh();
  }, 5000);
  document.addEventListener("visibilitychange", () => {
    if (document.visibilityState === "visible" && liveState !== "live" && Date.now() - lastPoll >= FALLBACK_POLL_MS) refresh();
  });
  setInterval(() => tickTimes(), 1000);
  route();
  live = connectLive({ onEvent: onLiveEvent, onState: onLiveState });
  // A stream slow to open does not hold the first load back for long.
  setTimeout(() => lastPoll || refresh(), FIRST_LOAD_WAIT_MS);
}

start();
