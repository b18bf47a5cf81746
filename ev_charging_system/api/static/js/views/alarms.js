// Alarms: what the rules say is wrong now (and, on demand, what was). Live: the view reads
// again when an alarm is raised or cleared.

import { enc, get, post } from "../api.js";
import { h, renderRows, setChildren } from "../dom.js";
import { t, tn } from "../i18n.js";
import { hashFor, navigate } from "../router.js";
import { badge, busy, button, dash, errorBox, pagination, segmented, table, timeAgo, timeExact, toast } from "../ui.js";

const DEFAULT_LIMIT = 50;
const SEVERITY_TONE = { critical: "danger", major: "danger", minor: "warn", warning: "warn" };

export function ruleLabel(rule) {
  return (
    {
      station_offline: t("Station offline"),
      connector_faulted: t("Connector faulted"),
      boot_rejected: t("Boot rejected"),
      implausible_meter_value: t("Implausible meter value"),
      command_failed: t("Command failed"),
      planner_fallback: t("Planner fallback"),
      database_unreachable: t("Database unreachable"),
    }[rule] || rule
  );
}

function severityLabel(severity) {
  return { critical: t("Critical"), major: t("Major"), minor: t("Minor"), warning: t("Warning") }[severity] || severity;
}

function pageOf(query) {
  const limit = Number(query.get("limit"));
  const offset = Number(query.get("offset"));
  return {
    history: query.get("history") === "true",
    limit: Number.isInteger(limit) && limit >= 1 && limit <= 500 ? limit : DEFAULT_LIMIT,
    offset: Number.isInteger(offset) && offset >= 0 ? offset : 0,
  };
}

export function alarmsView() {
  let root = null;
  let page = pageOf(new URLSearchParams());
  let generation = 0;
  const tbody = h("tbody");
  const errorSlot = h("div", { class: "error-slot" });
  const pager = h("div");
  const summary = h("p", { class: "view-lede" }, t("Loading…"));
  const filterSlot = h("div");

  function query(next) {
    return {
      history: next.history ? "true" : null,
      limit: next.limit === DEFAULT_LIMIT ? null : next.limit,
      offset: next.offset || null,
    };
  }

  function row(alarm) {
    const station = alarm.charge_point_id
      ? h("a", { class: "mono", href: hashFor("charge-points", alarm.charge_point_id) }, alarm.charge_point_id)
      : h("span", { class: "muted" }, t("Site"));
    let action = null;
    if (alarm.active && alarm.id !== null && !alarm.acknowledged_at) {
      action = button(t("Acknowledge"), { size: "sm", "aria-label": t("Acknowledge alarm {id}", { id: alarm.id }) });
      action.addEventListener("click", () =>
        busy(action, async () => {
          await post(`/api/alarms/${enc(alarm.id)}/acknowledge`);
          toast(t("Others see that someone is on it."), { title: t("Alarm acknowledged") });
          await refresh();
        }),
      );
    }
    const state = alarm.active
      ? alarm.acknowledged_at
        ? badge(t("Acknowledged by {who}", { who: alarm.acknowledged_by || "?" }), "info")
        : badge(t("Active"), SEVERITY_TONE[alarm.severity] || "warn")
      : badge(t("Cleared {when}", { when: timeExact(alarm.cleared_at).textContent }), "muted");
    return h(
      "tr",
      { "data-alarm": alarm.id ?? "" },
      h("td", {}, badge(severityLabel(alarm.severity), SEVERITY_TONE[alarm.severity] || "muted")),
      h("td", {}, h("div", { class: "strong" }, ruleLabel(alarm.rule)), h("div", { class: "cell-sub" }, alarm.message)),
      h("td", {}, station, alarm.connector_id !== null ? h("div", { class: "cell-sub" }, t("Connector {id}", { id: alarm.connector_id })) : null),
      h("td", {}, timeAgo(alarm.raised_at), alarm.occurrences > 1 ? h("div", { class: "cell-sub" }, tn(alarm.occurrences, "seen {count} time", "seen {count} times")) : null),
      h("td", {}, state),
      h("td", { class: "actions" }, action || dash(null)),
    );
  }

  async function load(current) {
    const result = await get("/api/alarms", { active: page.history ? "false" : "true", limit: page.limit, offset: page.offset });
    if (!root || current !== generation) return;
    errorSlot.replaceChildren();
    renderRows(tbody, result.items, (a) => `${a.id}|${a.active}|${a.acknowledged_at}|${a.occurrences}`, row, 6, page.history ? t("No alarm has been raised yet.") : t("Nothing needs attention: no active alarm."));
    summary.textContent = page.history ? tn(result.total, "{count} alarm in the history", "{count} alarms in the history") : tn(result.total, "{count} active alarm", "{count} active alarms");
    setChildren(pager, pagination({ total: result.total, limit: page.limit, offset: page.offset, onChange: (next) => navigate("alarms", null, query({ ...page, ...next })) }));
  }

  function refresh() {
    const current = generation;
    return load(current).catch((error) => {
      if (root && current === generation) setChildren(errorSlot, errorBox(error));
    });
  }

  function renderFilter() {
    setChildren(
      filterSlot,
      segmented("alarms-scope", [["active", t("Active")], ["history", t("History")]], page.history ? "history" : "active", {
        label: t("Which alarms"),
        onChange: (value) => navigate("alarms", null, query({ history: value === "history", limit: page.limit, offset: 0 })),
      }),
    );
  }

  return {
    title: t("Alarms"),
    events: ["alarm."],
    mount(container, route) {
      page = pageOf(route.query);
      renderFilter();
      root = h(
        "div",
        { class: "view" },
        h("div", { class: "view-header" }, h("div", {}, h("h1", {}, t("Alarms")), summary), filterSlot),
        errorSlot,
        h(
          "div",
          { class: "panel panel-flush" },
          table([t("Severity"), t("Alarm"), t("Where"), t("Raised"), t("State"), { label: t("Actions"), class: "actions" }], tbody, { caption: t("Alarms") }),
          pager,
        ),
      );
      container.append(root);
    },
    update(route) {
      const next = pageOf(route.query);
      if (next.history !== page.history || next.limit !== page.limit || next.offset !== page.offset) {
        page = next;
        generation += 1;
        renderFilter();
        refresh();
      }
    },
    refresh,
    unmount() {
      root = null;
    },
  };
}
