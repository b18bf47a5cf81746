// Shared widgets: badges, times, toasts, dialogs, error boxes, pagination, form fields.

import { t, tn } from "./i18n.js";

import { ApiError } from "./api.js";
import { h, uid } from "./dom.js";
import { formatDateTime, formatDuration, formatNumber, relativeTime } from "./format.js";

const CONNECTOR_TONES = {
  Available: "ok",
  Preparing: "warn",
  Charging: "info",
  Occupied: "info",
  SuspendedEV: "violet",
  SuspendedEVSE: "violet",
  Finishing: "warn",
  Reserved: "teal",
  Unavailable: "muted",
  Faulted: "danger",
  Online: "ok",
  Offline: "muted",
};
const REGISTRATION_TONES = { Accepted: "ok", Pending: "warn", Rejected: "danger" };
// OCPP status values as people read them; the value itself stays in the badge's title.
const STATUS_LABELS = {
  Available: t("Available"),
  Preparing: t("Preparing"),
  Charging: t("Charging"),
  Occupied: t("Occupied"),
  SuspendedEV: t("Suspended by the vehicle"),
  SuspendedEVSE: t("Suspended by the station"),
  Finishing: t("Finishing"),
  Reserved: t("Reserved"),
  Unavailable: t("Unavailable"),
  Faulted: t("Faulted"),
  Online: t("Online"),
  Offline: t("Offline"),
  Accepted: t("Accepted"),
  Pending: t("Pending"),
  Rejected: t("Rejected"),
  Blocked: t("Blocked"),
  Expired: t("Expired"),
  Invalid: t("Invalid"),
  ConcurrentTx: t("Concurrent session"),
};

/** An OCPP status in the dashboard's language (unknown values as they are). */
export const statusLabel = (status) => STATUS_LABELS[status] || status;

const TAG_TONES = {
  Accepted: "ok",
  Blocked: "danger",
  Expired: "warn",
  Invalid: "muted",
  ConcurrentTx: "warn",
};

export function badge(text, tone = "muted", props = {}) {
  return h("span", { ...props, class: ["badge", `tone-${tone}`, props.class] }, text);
}

export const connectorTone = (status) => CONNECTOR_TONES[status] || "muted";

export function connectorBadge(status, { stale = false } = {}) {
  if (!status) return badge(t("Unknown"), "muted");
  if (stale) {
    // Reported before the station went offline: what it was, not what it is.
    return badge(t("{status} (last known)", { status: statusLabel(status) }), "muted", { title: t("Last reported before the station went offline"), class: "badge-stale" });
  }
  return badge(statusLabel(status), connectorTone(status), { title: status });
}

export function registrationBadge(status) {
  // null: the station never sent BootNotification, so nobody has accepted it yet.
  if (!status) return badge(t("Not booted"), "muted", { title: t("No BootNotification yet: not accepted by anyone") });
  return badge(statusLabel(status), REGISTRATION_TONES[status] || "muted", { title: status });
}

export function tagStatusBadge(status) {
  return badge(statusLabel(status), TAG_TONES[status] || "muted", { title: status });
}

export function onlineBadge(online) {
  return h(
    "span",
    { class: ["presence", online ? "is-online" : "is-offline"] },
    h("span", { class: "dot", "aria-hidden": "true" }),
    online ? t("Online") : t("Offline"),
  );
}

/** A <time> showing "3 min ago" (kept current by tickTimes) with the exact time on hover. */
export function timeAgo(iso, fallback = "never") {
  if (!iso) return h("span", { class: "muted" }, fallback);
  return h(
    "time",
    { datetime: iso, title: formatDateTime(iso), dataset: { relative: "1" } },
    relativeTime(iso),
  );
}

export function timeExact(iso, fallback = "—") {
  if (!iso) return h("span", { class: "muted" }, fallback);
  return h("time", { datetime: iso, title: relativeTime(iso) }, formatDateTime(iso));
}

/** Time elapsed since `iso` ("12 min 04 s"), kept current by tickTimes. */
export function durationSince(iso) {
  const start = new Date(iso).getTime();
  return h(
    "span",
    { class: "num", dataset: { since: iso } },
    formatDuration(Date.now() - start),
  );
}

export function tickTimes(root = document) {
  const now = Date.now();
  for (const node of root.querySelectorAll("time[data-relative]")) {
    const text = relativeTime(node.getAttribute("datetime"), now);
    if (node.textContent !== text) node.textContent = text;
  }
  for (const node of root.querySelectorAll("[data-since]")) {
    const text = formatDuration(now - new Date(node.dataset.since).getTime());
    if (node.textContent !== text) node.textContent = text;
  }
}

export function dash(value) {
  if (value instanceof Node) return value;
  return value === null || value === undefined || value === ""
    ? h("span", { class: "muted" }, "—")
    : String(value);
}

export function button(
  label,
  { kind = "", size = "", onClick, type = "button", class: extra, ...rest } = {},
) {
  return h(
    "button",
    {
      ...rest,
      type,
      class: ["btn", kind && `btn-${kind}`, size && `btn-${size}`, extra],
      on: onClick ? { click: onClick } : undefined,
    },
    label,
  );
}

/** Run an async action from a button: disable it meanwhile, report errors as a toast. */
export async function busy(buttonNode, action) {
  if (buttonNode) {
    buttonNode.disabled = true;
    buttonNode.setAttribute("aria-busy", "true");
  }
  try {
    return await action();
  } catch (error) {
    reportError(error);
    return undefined;
  } finally {
    if (buttonNode) {
      buttonNode.disabled = false;
      buttonNode.removeAttribute("aria-busy");
    }
  }
}

/** `load` made single-flight: one load at a time, however many calls (live events and
 * clicks come in bursts). A call while a load runs asks for one more load after it, since
 * the running one may have read before what the caller wants to see (e.g. the stations
 * forgotten on a stream reconnect); every caller's promise settles when the last one has.
 * A failure goes to `onError` when given, else rejects. */
export function singleFlight(load, onError) {
  let running = null;
  let again = false;
  const once = () => {
    again = false;
    return onError ? load().catch(onError) : load();
  };
  return () => {
    if (running) {
      again = true;
    } else {
      running = (async () => {
        do {
          await once();
        } while (again);
      })().finally(() => {
        running = null;
        again = false;
      });
    }
    return running;
  };
}

export function errorBox(error) {
  const apiError = error instanceof ApiError ? error : null;
  const title = apiError ? apiError.title : error.title || t("Something went wrong");
  const detail = apiError ? apiError.detail : String(error && error.message ? error.message : error);
  return h(
    "div",
    { class: "alert alert-error", role: "alert" },
    h("strong", { class: "alert-title" }, title),
    h("p", { class: "alert-detail" }, detail),
    apiError && apiError.hint ? h("p", { class: "alert-hint" }, apiError.hint) : null,
  );
}

/** The notification area, lifted above any open modal dialog (it is a manual popover). */
function raiseToasts(region) {
  if (typeof region.showPopover !== "function") return;
  if (!region.hasAttribute("popover")) region.setAttribute("popover", "manual");
  if (region.matches(":popover-open")) region.hidePopover();
  if (region.childElementCount) region.showPopover();
}

export function toast(message, { title = "", tone = "ok", timeout = 5000 } = {}) {
  const region = document.getElementById("toasts");
  if (!region) return;
  const close = () => {
    node.remove();
    if (!region.childElementCount && region.matches(":popover-open")) region.hidePopover();
  };
  const node = h(
    "div",
    { class: ["toast", `toast-${tone}`], role: tone === "error" ? "alert" : "status" },
    h(
      "div",
      { class: "toast-body" },
      title ? h("strong", { class: "toast-title" }, title) : null,
      message ? h("p", { class: "toast-message" }, message) : null,
    ),
    h(
      "button",
      { type: "button", class: "toast-close", "aria-label": t("Dismiss"), on: { click: close } },
      "×",
    ),
  );
  region.append(node);
  raiseToasts(region);
  if (timeout) setTimeout(close, timeout);
}

export function reportError(error) {
  if (error && error.name === "AbortError") return;
  if (error instanceof ApiError) {
    const detail = error.hint ? `${error.detail}\n${error.hint}` : error.detail;
    toast(detail, { title: error.title, tone: "error", timeout: 12000 });
  } else {
    console.error(error);
    toast(String(error && error.message ? error.message : error), {
      title: t("Something went wrong"),
      tone: "error",
      timeout: 12000,
    });
  }
}

/**
 * A modal <dialog> (focus trapped, Escape closes). `drawer` slides it in from the right.
 * Returns {dialog, body, close}; `onClose` runs once when it closes for any reason.
 */
export function openDialog({ title, subtitle, content, footer, drawer = false, wide = false, onClose }) {
  const titleId = uid("dialog-title");
  const body = h("div", { class: "dialog-body" }, content);
  const heading = h("h2", { id: titleId, class: "dialog-title" }, title);
  const dialog = h(
    "dialog",
    { class: ["dialog", drawer && "dialog-drawer", wide && "dialog-wide"], "aria-labelledby": titleId },
    h(
      "header",
      { class: "dialog-header" },
      h("div", { class: "dialog-heading" }, heading, subtitle ? h("div", { class: "dialog-subtitle" }, subtitle) : null),
      h(
        "button",
        {
          type: "button",
          class: "btn btn-ghost btn-icon",
          "aria-label": t("Close"),
          on: { click: () => dialog.close() },
        },
        "×",
      ),
    ),
    body,
    footer ? h("footer", { class: "dialog-footer" }, footer) : null,
  );
  dialog.addEventListener("click", (event) => {
    if (event.target === dialog) dialog.close(); // a click on the backdrop
  });
  dialog.addEventListener("close", () => {
    dialog.remove();
    if (onClose) onClose();
  });
  document.body.append(dialog);
  dialog.showModal();
  return { dialog, body, heading, close: () => dialog.open && dialog.close() };
}

export function confirmDialog({ title, message, confirmLabel = t("Confirm"), danger = false }) {
  return new Promise((resolve) => {
    let answer = false;
    const confirm = button(confirmLabel, {
      kind: danger ? "danger" : "primary",
      onClick: () => {
        answer = true;
        handle.close();
      },
    });
    const cancel = button(t("Cancel"), { onClick: () => handle.close() });
    const handle = openDialog({
      title,
      content: h("p", {}, message),
      footer: [cancel, confirm],
      onClose: () => resolve(answer),
    });
    cancel.focus();
  });
}

/**
 * A labelled form field. `control` may be a group (an input with a unit or a button): the
 * label then names its first input, select or textarea, so no control goes unlabelled.
 */
export function field(label, control, { hint, wide = false } = {}) {
  const target = control.matches("input, select, textarea") ? control : control.querySelector("input, select, textarea") || control;
  if (!target.id) target.id = uid("field");
  const hintNode = hint ? h("span", { class: "field-hint", id: `${target.id}-hint` }, hint) : null;
  if (hintNode) target.setAttribute("aria-describedby", hintNode.id);
  return h(
    "div",
    { class: ["field", wide && "field-wide"] },
    h("label", { for: target.id }, label),
    control,
    hintNode,
  );
}

export function select(options, value, props = {}) {
  return h(
    "select",
    props,
    options.map(([optionValue, label]) =>
      h("option", { value: optionValue, selected: optionValue === value }, label),
    ),
  );
}

/** "1–50 of 230" with previous/next buttons and a page-size choice. */
export function pagination({ total, limit, offset, onChange, sizes = [25, 50, 100, 200] }) {
  const first = total === 0 ? 0 : offset + 1;
  const last = Math.min(offset + limit, total);
  const page = Math.floor(offset / limit) + 1;
  const pages = Math.max(1, Math.ceil(total / limit));
  if (!sizes.includes(limit)) sizes = [...sizes, limit].sort((a, b) => a - b);
  const size = select(
    sizes.map((n) => [String(n), t("{n} per page", { n })]),
    String(limit),
    { "aria-label": t("Rows per page"), class: "input input-sm" },
  );
  size.addEventListener("change", () => onChange({ limit: Number(size.value), offset: 0 }));
  return h(
    "nav",
    { class: "pagination", "aria-label": t("Pages") },
    h("span", { class: "pagination-range", "aria-live": "polite" }, t("{first}–{last} of {total}", { first: formatNumber(first, 0), last: formatNumber(last, 0), total: formatNumber(total, 0) })),
    h(
      "div",
      { class: "pagination-controls" },
      size,
      button(t("‹ Previous"), {
        size: "sm",
        disabled: offset <= 0,
        onClick: () => onChange({ limit, offset: Math.max(0, offset - limit) }),
      }),
      h("span", { class: "pagination-page" }, t("Page {page} of {pages}", { page, pages })),
      button(t("Next ›"), {
        size: "sm",
        disabled: offset + limit >= total,
        onClick: () => onChange({ limit, offset: offset + limit }),
      }),
    ),
  );
}

export function emptyState(title, text, action) {
  return h(
    "div",
    { class: "empty-state" },
    h("p", { class: "empty-title" }, title),
    text ? h("p", { class: "muted" }, text) : null,
    action || null,
  );
}

export function panel(title, content, { actions, id, description } = {}) {
  const headingId = id || uid("panel");
  return h(
    "section",
    { class: "panel", "aria-labelledby": headingId },
    h(
      "div",
      { class: "panel-header" },
      h(
        "div",
        {},
        h("h2", { class: "panel-title", id: headingId }, title),
        description ? h("p", { class: "panel-description" }, description) : null,
      ),
      actions ? h("div", { class: "panel-actions" }, actions) : null,
    ),
    content,
  );
}

export function table(headers, tbody, { caption, className } = {}) {
  // The wrapper scrolls sideways on narrow screens: focusable, so keyboards can scroll it too.
  return h(
    "div",
    { class: "table-wrap", tabindex: "0" },
    h(
      "table",
      { class: ["table", className] },
      caption ? h("caption", { class: "visually-hidden" }, caption) : null,
      h(
        "thead",
        {},
        h(
          "tr",
          {},
          headers.map((header) =>
            typeof header === "string"
              ? h("th", { scope: "col" }, header)
              : h("th", { scope: "col", class: header.class }, header.label),
          ),
        ),
      ),
      tbody,
    ),
  );
}

export function definitionList(pairs) {
  return h(
    "dl",
    { class: "deflist" },
    pairs
      .filter(Boolean)
      .map(([term, value]) => h("div", { class: "deflist-row" }, h("dt", {}, term), h("dd", {}, dash(value)))),
  );
}

/**
 * Accessible tabs (arrow keys, Home and End move between tabs). `items` are
 * {key, label, content, onShow, hidden}; `onShow(key)` runs whenever a tab is shown, so a
 * tab can load its data only when someone looks at it. Returns {node, show, setHidden,
 * selected}.
 */
export function tabs(items, { selected, onChange } = {}) {
  const list = h("div", { class: "tabs", role: "tablist" });
  const entries = items.map((item, index) => {
    const key = item.key || String(index);
    const tabId = uid("tab");
    const panelId = uid("tabpanel");
    const tab = h(
      "button",
      { type: "button", role: "tab", id: tabId, class: "tab", "aria-controls": panelId, "aria-selected": "false", tabindex: "-1", hidden: Boolean(item.hidden) },
      item.label,
    );
    const tabPanel = h("div", { role: "tabpanel", id: panelId, "aria-labelledby": tabId, class: "tabpanel", tabindex: "0", hidden: true }, item.content);
    return { key, tab, panel: tabPanel, onShow: item.onShow };
  });
  let current = null;
  const visible = () => entries.filter((entry) => !entry.tab.hidden);
  function show(key, { focus = false, silent = false } = {}) {
    const entry = entries.find((e) => e.key === key && !e.tab.hidden) || visible()[0];
    if (!entry) return;
    const changed = current !== entry;
    current = entry;
    for (const e of entries) {
      const on = e === entry;
      e.tab.setAttribute("aria-selected", String(on));
      e.tab.tabIndex = on ? 0 : -1;
      e.panel.hidden = !on;
    }
    if (focus) entry.tab.focus();
    if (entry.onShow) entry.onShow(entry.key);
    if (changed && !silent && onChange) onChange(entry.key);
  }
  for (const entry of entries) {
    entry.tab.addEventListener("click", () => show(entry.key, { focus: true }));
    entry.tab.addEventListener("keydown", (event) => {
      const shown = visible();
      const index = shown.indexOf(entry);
      const last = shown.length - 1;
      const next = { ArrowRight: index === last ? 0 : index + 1, ArrowLeft: index === 0 ? last : index - 1, Home: 0, End: last }[event.key];
      if (next !== undefined) {
        event.preventDefault();
        show(shown[next].key, { focus: true });
      }
    });
  }
  list.append(...entries.map((e) => e.tab));
  const node = h("div", { class: "tabset" }, list, entries.map((e) => e.panel));
  show(selected || entries[0].key, { silent: true });
  return {
    node,
    show,
    selected: () => (current ? current.key : null),
    setHidden(key, hidden) {
      const entry = entries.find((e) => e.key === key);
      if (!entry || entry.tab.hidden === hidden) return;
      entry.tab.hidden = hidden;
      if (hidden && current === entry) show(visible()[0].key);
    },
  };
}

/** A value of unknown shape as short text: strings as they are, the rest as JSON. */
export function plainValue(value) {
  if (value === null || value === undefined) return "—";
  if (typeof value === "string") return value;
  if (typeof value === "number" || typeof value === "boolean") return String(value);
  if (Array.isArray(value) && value.every((v) => v === null || typeof v !== "object")) return value.join(", ");
  if (typeof value === "object" && !Array.isArray(value)) {
    const entries = Object.entries(value);
    if (entries.every(([, v]) => v === null || typeof v !== "object")) {
      return entries.map(([k, v]) => `${k}: ${v}`).join(", ");
    }
  }
  return JSON.stringify(value);
}

/** Keys and values of an object as a compact <dl>; long values are cut (full text in title). */
export function keyValues(object, { max = 160, empty = "—" } = {}) {
  const entries = Object.entries(object || {});
  if (!entries.length) return h("span", { class: "muted" }, empty);
  return h(
    "dl",
    { class: "kv" },
    entries.map(([key, value]) => {
      const text = plainValue(value);
      const cut = text.length > max ? `${text.slice(0, max - 1)}…` : text;
      return h("div", {}, h("dt", {}, key.replaceAll("_", " ")), h("dd", { title: cut !== text ? text : null, class: value === null || value === "" ? "muted" : null }, cut || "—"));
    }),
  );
}

/** Pretty-printed JSON in a scrollable, focusable <pre> (for payloads of unknown shape). */
export function jsonBlock(value, label = t("JSON")) {
  return h("pre", { class: "json", tabindex: "0", "aria-label": label }, JSON.stringify(value, null, 2));
}

/** Radio buttons styled as a segmented control; `onChange(value)` on every choice. */
export function segmented(name, options, value, { label, onChange, disabled = false } = {}) {
  const groupName = uid(name);
  return h(
    "div",
    { class: "segmented", role: "radiogroup", "aria-label": label },
    options.map(([optionValue, optionLabel, title]) => {
      const input = h("input", { type: "radio", name: groupName, value: optionValue, checked: optionValue === value, disabled });
      if (onChange) input.addEventListener("change", () => input.checked && onChange(optionValue));
      return h("label", { class: "segment-option", title }, input, h("span", {}, optionLabel));
    }),
  );
}

/** Shows problems next to the fields they are about: `fields` maps a path to its control. */
export function showFieldErrors(fields, problems, summary) {
  for (const control of Object.values(fields)) {
    control.removeAttribute("aria-invalid");
    const wrapper = control.closest(".field");
    const old = wrapper && wrapper.querySelector(".field-error");
    if (old) old.remove();
  }
  const unplaced = [];
  let first = null;
  for (const problem of problems) {
    const control = fields[problem.path];
    const wrapper = control && control.closest(".field");
    if (!wrapper) {
      unplaced.push(problem);
      continue;
    }
    control.setAttribute("aria-invalid", "true");
    const message = h("span", { class: "field-error", id: uid("field-error") }, problem.message);
    wrapper.append(message);
    const described = (control.getAttribute("aria-describedby") || "").split(" ").filter((id) => id && document.getElementById(id));
    control.setAttribute("aria-describedby", [...described, message.id].join(" "));
    first = first || control;
  }
  if (summary) {
    summary.replaceChildren();
    if (problems.length) {
      summary.append(
        h(
          "div",
          { class: "alert alert-error", role: "alert" },
          h("strong", { class: "alert-title" }, tn(problems.length, "Not saved: {count} problem", "Not saved: {count} problems")),
          h(
            "ul",
            { class: "problem-list" },
            problems.map((p) => {
              const control = fields[p.path];
              const text = [p.path ? h("span", { class: "mono" }, p.path) : null, p.path ? ": " : null, p.message];
              if (!control || !control.id) return h("li", {}, text);
              return h("li", {}, h("a", { href: `#${control.id}`, on: { click: (event) => { event.preventDefault(); control.focus(); } } }, text));
            }),
          ),
        ),
      );
    }
  }
  if (first) first.focus();
  return unplaced;
}
