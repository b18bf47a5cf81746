// What the history says about one station (Diagnosis tab) and what a 2.0.1 station reported
// about itself (Device model tab).

import { t, tn } from "../i18n.js";

import { get, post } from "../api.js";
import { h, s, setChildren, uid } from "../dom.js";
import { formatDateTime } from "../format.js";
import { hashFor } from "../router.js";
import { badge, busy, button, emptyState, onlineBadge, plainValue, select, timeAgo, timeExact, toast } from "../ui.js";
import { commandErrorBox, editConfigValue } from "./remote.js";

const GRADE_TONES = { healthy: "ok", degraded: "warn", failing: "danger" };
const SEVERITY_TONES = { critical: "danger", warning: "warn", info: "info" };
const GRADE_LABELS = { healthy: t("healthy"), degraded: t("degraded"), failing: t("failing") };
const SEVERITY_LABELS = { critical: t("critical"), warning: t("warning"), info: t("info") };
const gradeLabel = (grade) => GRADE_LABELS[grade] || grade;
const severityLabel = (severity) => SEVERITY_LABELS[severity] || severity;
const ISO_INSTANT = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}/;

/** A half-circle gauge of a 0..100 score. */
export function scoreGauge(score, grade) {
  const value = Math.max(0, Math.min(100, Number(score) || 0));
  const titleId = uid("gauge");
  const arc = "M 20 100 A 80 80 0 0 1 180 100";
  return s(
    "svg",
    { class: ["gauge", `gauge-${grade}`], viewBox: "0 0 200 116", role: "img", "aria-labelledby": titleId },
    s("title", { id: titleId }, t("Health score {value} of 100: {grade}", { value, grade: gradeLabel(grade) })),
    s("path", { class: "gauge-track", d: arc, pathLength: "100" }),
    s("path", { class: "gauge-value", d: arc, pathLength: "100", "stroke-dasharray": `${value} 100` }),
    s("text", { class: "gauge-score", x: "100", y: "92", "text-anchor": "middle" }, String(value)),
    s("text", { class: "gauge-scale", x: "100", y: "112", "text-anchor": "middle" }, t("of 100")),
  );
}

function evidenceValue(key, value) {
  if (typeof value === "string" && ISO_INSTANT.test(value)) return timeExact(value);
  if (Array.isArray(value) && /session/.test(key) && value.every((v) => Number.isInteger(v))) {
    if (!value.length) return h("span", { class: "muted" }, "none");
    return h(
      "span",
      { class: "id-links" },
      value.map((id, i) => [i ? ", " : null, h("a", { href: hashFor("transactions", id) }, `#${id}`)]),
    );
  }
  if (value && typeof value === "object" && !Array.isArray(value)) {
    const entries = Object.entries(value);
    if (!entries.length) return h("span", { class: "muted" }, "none");
    return h(
      "span",
      { class: "evidence-counts" },
      entries.map(([k, v]) => h("span", { class: "count-chip" }, h("span", { class: "mono" }, k), " ", h("strong", {}, plainValue(v)))),
    );
  }
  if (Array.isArray(value) && !value.length) return h("span", { class: "muted" }, "none");
  if (typeof value === "boolean") return value ? "yes" : "no";
  return plainValue(value);
}

function findingCard(finding) {
  const tone = SEVERITY_TONES[finding.severity] || "muted";
  return h(
    "li",
    { class: ["finding", `finding-${tone}`] },
    h("div", { class: "finding-head" }, badge(severityLabel(finding.severity), tone), h("h4", { class: "finding-title" }, finding.title)),
    h(
      "dl",
      { class: "kv evidence" },
      Object.entries(finding.evidence || {}).map(([key, value]) => h("div", {}, h("dt", {}, key.replaceAll("_", " ")), h("dd", {}, evidenceValue(key, value)))),
    ),
    h("p", { class: "suggestion" }, h("strong", {}, t("Suggested action:"), " "), finding.suggested_action),
  );
}

/** The "Diagnosis" tab: score, grade and findings over a chosen period. */
export function diagnosisPanel(ctx) {
  const days = select([["1", t("Last 24 hours")], ["7", t("Last 7 days")], ["14", t("Last 14 days")], ["30", t("Last 30 days")], ["90", t("Last 90 days")]], "14", { class: "input input-sm", "aria-label": t("Period") });
  const body = h("div", { class: "diagnosis", "aria-live": "polite" }, h("p", { class: "muted" }, t("Loading…")));
  const rerun = button(t("Diagnose again"), { size: "sm" });
  let signature = "";
  days.addEventListener("change", () => refresh());
  rerun.addEventListener("click", () => busy(rerun, () => refresh(true)));

  function render(report) {
    const counts = {};
    for (const f of report.findings) counts[f.severity] = (counts[f.severity] || 0) + 1;
    const tone = GRADE_TONES[report.grade] || "muted";
    setChildren(
      body,
      h(
        "div",
        { class: ["diagnosis-summary", `tone-border-${tone}`] },
        scoreGauge(report.score, report.grade),
        h(
          "div",
          { class: "stack-sm" },
          h("p", { class: "diagnosis-grade" }, badge(gradeLabel(report.grade), tone), " ", onlineBadge(report.online)),
          h(
            "p",
            { class: "muted small" },
            t("From {start} to {end}", { start: formatDateTime(report.period_start), end: formatDateTime(report.period_end) }),
          ),
          h(
            "p",
            {},
            report.findings.length
              ? ["critical", "warning", "info"]
                  .filter((k) => counts[k])
                  .map((k, i) => [i ? " · " : null, h("span", { class: `text-${SEVERITY_TONES[k]}` }, `${counts[k]} ${severityLabel(k)}`)])
              : t("No findings"),
          ),
        ),
      ),
      report.findings.length
        ? h("ol", { class: "findings" }, report.findings.map(findingCard))
        : h("p", { class: "all-clear" }, t("Nothing unusual in this period: no faults, reboots, connection drops, empty sessions or security problems.")),
    );
  }

  async function refresh(force = false) {
    try {
      const report = await get(`${ctx.base}/diagnosis`, { days: days.value });
      const next = JSON.stringify({ ...report, period_start: null, period_end: null });
      if (!force && next === signature) return;
      signature = next;
      render(report);
    } catch (error) {
      signature = "";
      setChildren(body, commandErrorBox(error, t("Diagnosis")));
    }
  }

  return {
    node: h("div", {}, h("div", { class: "toolbar" }, days, rerun, h("span", { class: "muted small" }, t("Judged from stored status changes, events and sessions."))), body),
    refresh,
  };
}

function groupKey(e) {
  return JSON.stringify([e.component, e.component_instance, e.evse_id, e.connector_id]);
}

function groupLabel(e) {
  return [
    h("span", { class: "mono strong" }, e.component),
    e.component_instance ? h("span", { class: "mono" }, ` [${e.component_instance}]`) : null,
    e.evse_id ? h("span", { class: "muted" }, " · ", t("EVSE {id}", { id: e.evse_id })) : null,
    e.connector_id ? h("span", { class: "muted" }, " · ", t("connector {id}", { id: e.connector_id })) : null,
  ];
}

/** The "Device model" tab: components and variables of a 2.0.1 station, grouped, filterable. */
export function deviceModelPanel(ctx) {
  const search = h("input", { type: "search", class: "input input-sm", placeholder: t("Component, variable or value…"), "aria-label": t("Filter variables") });
  const mutability = select([["", t("Any access")], ["ReadWrite", t("Read-write")], ["ReadOnly", t("Read-only")], ["WriteOnly", t("Write-only")]], "", { class: "input input-sm", "aria-label": t("Access") });
  const count = h("span", { class: "muted small", "aria-live": "polite" });
  const report = button(t("Request full report"), { size: "sm", title: t("GetBaseReport FullInventory: the station sends NotifyReport pages") });
  const errorArea = h("div");
  const tableNode = h("table", { class: "table table-compact device-model" });
  const wrap = h("div", { class: "table-wrap", tabindex: "0" }, tableNode);
  let entries = [];
  let signature = "";
  let timer = null;

  const filter = () => {
    clearTimeout(timer);
    timer = setTimeout(render, 120);
  };
  search.addEventListener("input", filter);
  mutability.addEventListener("change", render);
  report.addEventListener("click", () =>
    busy(report, async () => {
      try {
        const result = await post(`${ctx.base}/commands/get-base-report`, { report_base: "FullInventory" });
        toast(t("The station answered {status}; its report arrives in pages.", { status: result.status }), { title: t("Report requested") });
        setTimeout(() => refresh(), 1500);
        setTimeout(() => refresh(), 5000);
      } catch (error) {
        setChildren(errorArea, commandErrorBox(error, t("Request report")));
      }
    }),
  );

  function matches(e, needle) {
    if (mutability.value && e.mutability !== mutability.value) return false;
    if (!needle) return true;
    return [e.component, e.component_instance, e.variable, e.variable_instance, e.value, e.attribute_type, e.evse_id ? `evse ${e.evse_id}` : ""]
      .filter(Boolean)
      .join(" ")
      .toLowerCase()
      .includes(needle);
  }

  function row(e) {
    const valueCell = h("td", { class: "mono dm-value" }, e.value === null ? h("span", { class: "muted" }, "—") : e.value);
    const actions = h("td", { class: "actions" });
    const editable = e.mutability !== "ReadOnly" && !e.component_instance && !e.variable_instance && !e.evse_id && e.attribute_type === "Actual";
    if (editable) {
      const key = `${e.component}.${e.variable}`;
      actions.append(button(t("Edit"), { size: "sm", "aria-label": t("Edit {key}", { key }), onClick: () => editConfigValue(ctx, key, e.value, valueCell, actions) }));
    }
    const data = e.characteristics || {};
    const flags = [e.persistent ? "persistent" : null, e.constant ? "constant" : null].filter(Boolean).join(", ");
    return h(
      "tr",
      {},
      h("th", { scope: "row", class: "mono dm-variable" }, e.variable, e.variable_instance ? h("span", { class: "muted" }, ` [${e.variable_instance}]`) : null, e.attribute_type !== "Actual" ? h("span", { class: "cell-sub" }, e.attribute_type) : null),
      valueCell,
      h(
        "td",
        {},
        e.mutability ? badge(e.mutability, e.mutability === "ReadOnly" ? "muted" : "teal") : h("span", { class: "muted" }, "—"),
        h("div", { class: "cell-sub" }, [data.data_type, data.unit, flags].filter(Boolean).join(" · ")),
      ),
      h("td", { class: "nowrap" }, e.updated_at ? timeAgo(e.updated_at) : "—"),
      actions,
    );
  }

  function render() {
    const needle = search.value.trim().toLowerCase();
    const shown = entries.filter((e) => matches(e, needle));
    const groups = new Map();
    for (const e of shown) {
      const key = groupKey(e);
      if (!groups.has(key)) groups.set(key, []);
      groups.get(key).push(e);
    }
    count.textContent = tn(groups.size, "{shown} of {total} variables in {count} component", "{shown} of {total} variables in {count} components", { shown: shown.length, total: entries.length });
    const head = h(
      "thead",
      {},
      h("tr", {}, [t("Variable"), t("Value"), t("Access · type"), t("Reported"), h("span", { class: "visually-hidden" }, t("Actions"))].map((label) => h("th", { scope: "col" }, label))),
    );
    const bodies = [...groups.values()].map((items) =>
      h(
        "tbody",
        { class: "dm-group" },
        h("tr", { class: "dm-group-head" }, h("th", { scope: "rowgroup", colspan: "5" }, groupLabel(items[0]), h("span", { class: "muted small" }, ` · ${items.length}`))),
        items.map(row),
      ),
    );
    if (!entries.length) {
      tableNode.replaceChildren();
      wrap.hidden = true;
      setChildren(errorArea, emptyState(t("No device model yet"), t("The station reports its components and variables in answer to GetBaseReport."), null));
      return;
    }
    wrap.hidden = false;
    tableNode.replaceChildren(
      h("caption", { class: "visually-hidden" }, t("Device model")),
      head,
      ...(bodies.length ? bodies : [h("tbody", {}, h("tr", { class: "empty-row" }, h("td", { colspan: "5" }, t("No variable matches the filter."))))]),
    );
  }

  async function refresh() {
    try {
      const next = await get(`${ctx.base}/device-model`);
      const nextSignature = JSON.stringify(next);
      if (nextSignature === signature) return;
      // Keep an open inline edit: re-render only when nobody is typing in the table.
      if (tableNode.contains(document.activeElement) && document.activeElement.tagName === "INPUT") return;
      signature = nextSignature;
      entries = next.sort((a, b) => groupKey(a).localeCompare(groupKey(b)) || a.variable.localeCompare(b.variable));
      errorArea.replaceChildren();
      render();
    } catch (error) {
      setChildren(errorArea, commandErrorBox(error, t("Device model")));
    }
  }

  return {
    node: h("div", {}, h("div", { class: "toolbar" }, search, mutability, report, count), errorArea, wrap),
    refresh,
  };
}
