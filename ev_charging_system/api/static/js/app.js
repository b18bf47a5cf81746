// Entry point: routing between the views, the operator token, live refresh and API health.

import { getToken, onTokenChange, setToken, verifyToken } from "./api.js";
import { h } from "./dom.js";
import { formatTime } from "./format.js";
import { parseRoute, setRouteHandler } from "./router.js";
import { button, errorBox, field, openDialog, reportError, tickTimes, toast } from "./ui.js";
import { assistantView } from "./views/assistant.js";
import { chargePointsView } from "./views/charge-points.js";
import { energyView } from "./views/energy.js";
import { idTagsView } from "./views/id-tags.js";
import { overviewView } from "./views/overview.js";
import { reportsView } from "./views/reports.js";
import { transactionsView } from "./views/transactions.js";

const REFRESH_MS = 5000;
const LIVE_KEY = "ev_charging_system.live";
const VIEWS = {
  overview: overviewView,
  "charge-points": chargePointsView,
  transactions: transactionsView,
  "id-tags": idTagsView,
  energy: energyView,
  reports: reportsView,
  assistant: assistantView,
};

const main = document.getElementById("main");

function readSetting(key) {
  try {
    return localStorage.getItem(key);
  } catch {
    return null;
  }
}

function writeSetting(key, value) {
  try {
    localStorage.setItem(key, value);
  } catch {
    // No storage (private mode): the setting lasts until the page is closed.
  }
}
let current = null; // { name, view }
let live = readSetting(LIVE_KEY) !== "off";
let refreshing = false;

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
  document.title = `${view.title} · Operator console`;
  view.mount(main, parsed);
  view.refresh().then(markUpdated, reportError);
}

function markUpdated() {
  document.getElementById("updated-at").textContent = `Updated ${formatTime(new Date(), true)}`;
}

async function refreshHealth() {
  const node = document.getElementById("health");
  const text = node.querySelector(".health-text");
  try {
    const response = await fetch("/api/health", { cache: "no-store" });
    const body = await response.json();
    const ok = response.ok && body.status === "ok";
    node.dataset.state = ok ? "ok" : "degraded";
    text.textContent = ok ? "API online" : `Database ${body.database || "unreachable"}`;
    node.title = ok ? "REST API and database are reachable" : "The database does not answer";
  } catch {
    node.dataset.state = "down";
    text.textContent = "API unreachable";
    node.title = "The REST API does not answer";
  }
}

async function refresh() {
  if (refreshing || !current) return;
  refreshing = true;
  try {
    await Promise.all([current.view.refresh(), refreshHealth()]);
    markUpdated();
  } catch (error) {
    reportError(error);
  } finally {
    refreshing = false;
  }
}

function renderLiveToggle() {
  const toggle = document.getElementById("live-toggle");
  toggle.setAttribute("aria-pressed", String(live));
  toggle.querySelector(".live-text").textContent = live ? "Live" : "Paused";
  toggle.title = live ? "Auto-refresh every 5 s: click to pause" : "Auto-refresh paused: click to resume";
}

function renderTokenButton() {
  const node = document.getElementById("token-button");
  const hasToken = Boolean(getToken());
  node.textContent = hasToken ? "Operator" : "Read-only";
  node.classList.toggle("has-token", hasToken);
  node.title = hasToken
    ? "An operator token is set: changes are allowed. Click to change or forget it."
    : "No operator token: you can look but not change. Click to set the API token.";
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
  const save = button("Save token", { kind: "primary", type: "submit" });
  const forget = button("Forget token", {
    kind: "ghost",
    onClick: () => {
      setToken("");
      toast("The dashboard is read-only now.", { title: "Token forgotten" });
      handle.close();
    },
  });
  const form = h(
    "form",
    { class: "form" },
    h(
      "p",
      { class: "muted" },
      "Reading is open. Changes (accepting stations, passwords, id tags, remote commands, " +
        "energy settings) need the API_TOKEN " +
        "of this server. It is kept in this browser's local storage only.",
    ),
    field("API token", input),
    h("label", { class: "checkbox" }, show, "Show token"),
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
            title: "Token refused (401)",
            message: "The server does not accept this token. Check API_TOKEN in its settings.",
          }),
        );
        return;
      }
      setToken(token);
      toast("Changes are allowed from this browser.", { title: "Operator token saved" });
      handle.close();
    } catch {
      errors.append(
        errorBox({ title: "API unreachable", message: "Could not reach the API to check the token." }),
      );
    } finally {
      save.disabled = false;
    }
  });
  const handle = openDialog({ title: "Operator API token", content: form });
  input.focus();
}

function start() {
  document.getElementById("token-button").addEventListener("click", openTokenDialog);
  document.getElementById("live-toggle").addEventListener("click", () => {
    live = !live;
    writeSetting(LIVE_KEY, live ? "on" : "off");
    renderLiveToggle();
    if (live) refresh();
  });
  document.getElementById("skip-link").addEventListener("click", (event) => {
    event.preventDefault();
    main.focus();
  });
  onTokenChange(() => {
    renderTokenButton();
    refresh();
  });
  renderTokenButton();
  renderLiveToggle();
  setRouteHandler(route);
  window.addEventListener("hashchange", route);
  document.addEventListener("visibilitychange", () => {
    if (document.visibilityState === "visible" && live) refresh();
  });
  setInterval(() => {
    if (live && document.visibilityState === "visible") refresh();
  }, REFRESH_MS);
  setInterval(() => tickTimes(), 1000);
  route();
  refreshHealth();
}

start();
