// Reports: energy and sessions per station, id tag or day over a date range, and the audit
// trail of actions taken through MCP tools and the chat.

import { t, tn } from "../i18n.js";

import { get } from "../api.js";
import { h, renderRows, setChildren } from "../dom.js";
import { formatDateWith, formatKWh, numberFormat } from "../format.js";
import { hashFor, navigate } from "../router.js";
import { badge, button, errorBox, field, jsonBlock, keyValues, select, table, tabs, timeExact } from "../ui.js";

const GROUPS = [
  ["charge_point", t("Charge point")],
  ["id_tag", t("Id tag")],
  ["day", t("Day (UTC)")],
  ["site", t("Site")],
];
const OUTCOME_TONES = { ok: "ok", error: "danger", denied: "danger", confirmation_required: "warn", cancelled: "muted" };
const CHANNEL_TONES = { mcp: "violet", chat: "teal", rest: "info" };
const DATE = /^\d{4}-\d{2}-\d{2}$/;
const integer = numberFormat({ maximumFractionDigits: 0 });

const pad = (n) => String(n).padStart(2, "0");
const dateOf = (date) => `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())}`;

/** A local calendar date ("2026-11-23") as the ISO instant of its midnight (+`days`). */
function midnight(value, days = 0) {
  const [y, m, d] = value.split("-").map(Number);
  return new Date(y, m - 1, d + days).toISOString();
}

function filtersOf(query) {
  const group = query.get("group_by");
  return {
    view: query.get("view") === "audit" ? "audit" : "usage",
    group_by: GROUPS.some(([g]) => g === group) ? group : "charge_point",
    from: DATE.test(query.get("from") || "") ? query.get("from") : "",
    to: DATE.test(query.get("to") || "") ? query.get("to") : "",
    charge_point_id: query.get("charge_point_id") || "",
    id_tag: query.get("id_tag") || "",
    actor: query.get("actor") || "",
    tool: query.get("tool") || "",
    limit: ["50", "100", "500"].includes(query.get("limit")) ? query.get("limit") : "100",
  };
}

function csv(rows) {
  const quote = (v) => {
    const text = String(v ?? "");
    return /[",\n]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
  };
  return rows.map((row) => row.map(quote).join(",")).join("\n");
}

export function reportsView() {
  let root = null;
  let filters = filtersOf(new URLSearchParams());
  let usageRows = [];
  let inFlight = null;
  let generation = 0;
  const usageBody = h("tbody");
  const usageFoot = h("tfoot");
  const usageSummary = h("p", { class: "muted small", "aria-live": "polite" });
  const usageError = h("div");
  const auditBody = h("tbody");
  const auditError = h("div");
  const auditSummary = h("p", { class: "muted small", "aria-live": "polite" });
  const form = {};
  const lists = h("div", { hidden: true }, h("datalist", { id: "report-stations" }), h("datalist", { id: "report-tags" }));

  function query(extra = {}) {
    const q = { ...filters, ...extra };
    if (q.view === "usage") q.view = null;
    if (q.group_by === "charge_point") q.group_by = null;
    if (q.limit === "100") q.limit = null;
    return q;
  }

  function keyCell(key) {
    if (filters.group_by === "charge_point") return h("a", { href: hashFor("charge-points", key), class: "mono strong" }, key);
    if (filters.group_by === "id_tag") return h("a", { href: hashFor("transactions", null, { id_tag: key }), class: "mono strong" }, key);
    // A site's name (the station's site now); "" gathers the stations of no site.
    if (filters.group_by === "site") return key ? h("span", { class: "strong" }, key) : h("span", { class: "muted" }, t("No site"));
    const from = new Date(`${key}T00:00:00Z`);
    const to = new Date(from.getTime() + 86_400_000);
    return h("a", { href: hashFor("transactions", null, { from: from.toISOString(), to: to.toISOString() }), class: "strong" }, formatDateWith(new Date(`${key}T12:00:00Z`), { weekday: "short", year: "numeric", month: "short", day: "numeric", timeZone: "UTC" }));
  }

  function renderUsage(rows) {
    usageRows = rows;
    const max = Math.max(1, ...rows.map((r) => r.energy_wh));
    const total = rows.reduce((sum, r) => sum + r.energy_wh, 0);
    const sessions = rows.reduce((sum, r) => sum + r.sessions, 0);
    renderRows(
      usageBody,
      rows,
      (r) => `${filters.group_by}|${r.key}`,
      (r) => {
        const fill = h("span", { class: "bar-fill" });
        fill.style.width = `${(r.energy_wh / max) * 100}%`;
        return h(
          "tr",
          {},
          h("td", {}, keyCell(r.key)),
          h("td", { class: "num" }, integer.format(r.sessions)),
          h("td", { class: "num nowrap" }, formatKWh(r.energy_wh)),
          h("td", { class: "num" }, r.sessions ? formatKWh(r.energy_wh / r.sessions) : "—"),
          h("td", { class: "num" }, total ? `${Math.round((r.energy_wh / total) * 100)} %` : "—"),
          h("td", { class: "bar-cell" }, h("span", { class: "bar", "aria-hidden": "true" }, fill)),
        );
      },
      6,
      t("No finished session in this range."),
    );
    setChildren(
      usageFoot,
      rows.length > 1
        ? h(
            "tr",
            {},
            h("th", { scope: "row" }, t("Total")),
            h("td", { class: "num strong" }, integer.format(sessions)),
            h("td", { class: "num strong nowrap" }, formatKWh(total)),
            h("td", { class: "num" }, sessions ? formatKWh(total / sessions) : "—"),
            h("td", {}),
            h("td", {}),
          )
        : null,
    );
    const range = filters.from || filters.to ? t("{from} to {to}", { from: filters.from || t("the beginning"), to: filters.to || t("today") }) : t("all time");
    usageSummary.textContent = [tn(rows.length, "{count} row", "{count} rows"), tn(sessions, "{count} finished session", "{count} finished sessions"), formatKWh(total), range].join(" · ");
  }

  function renderAudit(entries) {
    auditSummary.textContent = tn(entries.length, "{count} action", "{count} actions") + (entries.length >= Number(filters.limit) ? ` ${t("(newest {limit})", { limit: filters.limit })}` : "");
    renderRows(
      auditBody,
      entries,
      (e) => e.id ?? `${e.at}|${e.tool}`,
      (e) => {
        const result = e.error ? h("span", { class: "text-danger" }, e.error) : keyValues(e.result, { max: 100 });
        const full = h("details", { class: "cmd-details" }, h("summary", {}, t("JSON")), jsonBlock({ arguments: e.arguments, result: e.result, error: e.error }, t("Audit entry")));
        return h(
          "tr",
          {},
          h("td", { class: "nowrap" }, timeExact(e.at)),
          h("td", {}, h("span", { class: "mono" }, e.actor), h("div", {}, badge(e.channel, CHANNEL_TONES[e.channel] || "muted"))),
          h("td", { class: "mono strong" }, e.tool),
          h("td", {}, keyValues(e.arguments, { max: 80 })),
          h("td", {}, badge(e.outcome.replaceAll("_", " "), OUTCOME_TONES[e.outcome] || "muted")),
          h("td", {}, result, full),
        );
      },
      6,
      filters.actor || filters.tool ? t("No action matches the filter.") : t("No action was taken through MCP tools or the chat yet."),
    );
  }

  async function load(current) {
    if (filters.view === "usage") {
      try {
        const rows = await get("/api/reports/usage", {
          group_by: filters.group_by,
          from: filters.from ? midnight(filters.from) : "",
          to: filters.to ? midnight(filters.to, 1) : "",
          charge_point_id: filters.charge_point_id,
          id_tag: filters.id_tag,
        });
        if (!root || current !== generation) return;
        usageError.replaceChildren();
        renderUsage(rows);
      } catch (error) {
        if (root && current === generation) setChildren(usageError, errorBox(error));
      }
    } else {
      try {
        const entries = (await get("/api/audit", { limit: filters.limit, actor: filters.actor, tool: filters.tool })).items;
        if (!root || current !== generation) return;
        auditError.replaceChildren();
        renderAudit(entries);
      } catch (error) {
        if (root && current === generation) setChildren(auditError, errorBox(error));
      }
    }
  }

  function refresh() {
    if (!inFlight) {
      const current = generation;
      inFlight = load(current).finally(() => {
        inFlight = null;
      });
    }
    return inFlight;
  }

  async function loadSuggestions() {
    try {
      const [points, tags] = await Promise.all([get("/api/charge-points", { limit: 500 }), get("/api/id-tags", { limit: 500 })]);
      setChildren(lists.children[0], points.items.map((p) => h("option", { value: p.id })));
      setChildren(lists.children[1], tags.items.map((t) => h("option", { value: t.id_tag })));
    } catch {
      // Suggestions only.
    }
  }

  function quickRange(label, from, to) {
    return button(label, { size: "sm", kind: "ghost", onClick: () => navigate("reports", null, query({ from, to })) });
  }

  function usageFilters() {
    form.group = select(GROUPS, filters.group_by, { class: "input" });
    form.from = h("input", { type: "date", class: "input" });
    form.to = h("input", { type: "date", class: "input" });
    form.station = h("input", { class: "input mono", list: "report-stations", autocomplete: "off", placeholder: t("Any") });
    form.tag = h("input", { class: "input mono", list: "report-tags", autocomplete: "off", placeholder: t("Any") });
    const node = h(
      "form",
      { class: "filters", role: "search", "aria-label": t("Usage report filters") },
      field(t("Group by"), form.group),
      field(t("From"), form.from),
      field(t("To (inclusive)"), form.to),
      field(t("Charge point"), form.station),
      field(t("Id tag"), form.tag),
      h("div", { class: "filters-actions" }, button(t("Apply"), { kind: "primary", type: "submit" })),
    );
    node.addEventListener("submit", (event) => {
      event.preventDefault();
      navigate("reports", null, query({ group_by: form.group.value, from: form.from.value, to: form.to.value, charge_point_id: form.station.value.trim(), id_tag: form.tag.value.trim() }));
    });
    form.group.addEventListener("change", () => node.requestSubmit());
    return node;
  }

  function auditFilters() {
    form.actor = h("input", { class: "input mono", autocomplete: "off", placeholder: t("e.g. {example}", { example: "mcp:claude-desktop" }) });
    form.tool = h("input", { class: "input mono", autocomplete: "off", placeholder: t("e.g. {example}", { example: "remote_start" }) });
    form.limit = select([["50", "50"], ["100", "100"], ["500", "500"]], filters.limit, { class: "input" });
    const node = h(
      "form",
      { class: "filters filters-3", role: "search", "aria-label": t("Audit filters") },
      field(t("Actor"), form.actor),
      field(t("Tool"), form.tool),
      field(t("Newest"), form.limit),
      h("div", { class: "filters-actions" }, button(t("Apply"), { kind: "primary", type: "submit" }), button(t("Reset"), { onClick: () => navigate("reports", null, { view: "audit" }) })),
    );
    node.addEventListener("submit", (event) => {
      event.preventDefault();
      navigate("reports", null, query({ actor: form.actor.value.trim(), tool: form.tool.value.trim(), limit: form.limit.value }));
    });
    return node;
  }

  function fillForm() {
    form.group.value = filters.group_by;
    form.from.value = filters.from;
    form.to.value = filters.to;
    form.station.value = filters.charge_point_id;
    form.tag.value = filters.id_tag;
    form.actor.value = filters.actor;
    form.tool.value = filters.tool;
    form.limit.value = filters.limit;
  }

  function download() {
    const label = GROUPS.find(([g]) => g === filters.group_by)[1];
    const text = csv([[label, "sessions", "energy_wh"], ...usageRows.map((r) => [r.key, r.sessions, r.energy_wh])]);
    const link = h("a", { href: URL.createObjectURL(new Blob([text], { type: "text/csv" })), download: `usage-${filters.group_by}-${filters.from || "all"}-${filters.to || dateOf(new Date())}.csv` });
    document.body.append(link);
    link.click();
    setTimeout(() => {
      URL.revokeObjectURL(link.href);
      link.remove();
    }, 0);
  }

  const today = () => dateOf(new Date());
  const daysAgo = (n) => {
    const d = new Date();
    d.setDate(d.getDate() - n);
    return dateOf(d);
  };
  const monthStart = () => {
    const d = new Date();
    d.setDate(1);
    return dateOf(d);
  };

  const tabset = tabs(
    [
      {
        key: "usage",
        label: t("Usage"),
        content: [
          usageFilters(),
          h("div", { class: "toolbar quick-ranges" }, h("span", { class: "muted small" }, t("Quick ranges:")), quickRange(t("Today"), today(), today()), quickRange(t("Last 7 days"), daysAgo(6), today()), quickRange(t("Last 30 days"), daysAgo(29), today()), quickRange(t("This month"), monthStart(), today()), quickRange(t("All time"), "", ""), h("span", { class: "spacer" }), button(t("Download CSV"), { size: "sm", onClick: download })),
          usageError,
          usageSummary,
          h(
            "div",
            { class: "table-wrap", tabindex: "0" },
            h(
              "table",
              { class: "table usage-table" },
              h("caption", { class: "visually-hidden" }, t("Usage")),
              h("thead", {}, h("tr", {}, [t("Key"), t("Sessions"), t("Energy"), t("Per session"), t("Share"), h("span", { class: "visually-hidden" }, t("Share as a bar"))].map((label, i) => h("th", { scope: "col", class: i > 0 && i < 5 ? "num" : null }, i === 0 ? GROUPS.find(([g]) => g === filters.group_by)[1] : label)))),
              usageBody,
              usageFoot,
            ),
          ),
          h("p", { class: "field-hint" }, t("Finished sessions by their start time. Days are UTC days.")),
        ],
      },
      {
        key: "audit",
        label: t("Audit log"),
        content: [auditFilters(), auditError, auditSummary, table([t("When"), t("Actor"), t("Tool"), t("Arguments"), t("Outcome"), t("Result")], auditBody, { caption: t("Audit log"), className: "table-compact" })],
      },
    ],
    { onChange: (key) => navigate("reports", null, query({ view: key })) },
  );

  function apply(route) {
    const next = filtersOf(route.query);
    const changed = JSON.stringify(next) !== JSON.stringify(filters);
    filters = next;
    fillForm();
    const keyHeader = root && root.querySelector(".usage-table thead th");
    if (keyHeader) keyHeader.textContent = GROUPS.find(([g]) => g === filters.group_by)[1];
    if (tabset.selected() !== filters.view) tabset.show(filters.view, { silent: true });
    if (changed) {
      generation += 1;
      usageBody._rows = null;
      inFlight = null;
      refresh();
    }
  }

  return {
    title: t("Reports"),
    mount(container, route) {
      root = h(
        "div",
        { class: "view" },
        h("div", { class: "view-header" }, h("div", {}, h("h1", {}, t("Reports")), h("p", { class: "view-lede" }, t("Energy and sessions over a period; every action taken through MCP tools and the chat.")))),
        h("section", { class: "panel" }, tabset.node),
        lists,
      );
      container.append(root);
      filters = filtersOf(route.query);
      fillForm();
      apply(route);
      loadSuggestions();
    },
    update(route) {
      apply(route);
    },
    refresh,
    unmount() {
      root = null;
    },
  };
}
