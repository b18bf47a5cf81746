// Transactions: filterable, paginated sessions and a detail dialog with the meter chart.

import { enc, get } from "../api.js";
import { latestReading, meterChart } from "../chart.js";
import { h, renderRows, setChildren, uid } from "../dom.js";
import { formatDuration, formatKWh, formatNumber, fromLocalInput, toLocalInput } from "../format.js";
import { hashFor, navigate, parseRoute } from "../router.js";
import { stopButton } from "./remote.js";
import {
  badge,
  button,
  dash,
  definitionList,
  durationSince,
  emptyState,
  errorBox,
  field,
  openDialog,
  pagination,
  select,
  table,
  tagStatusBadge,
  timeExact,
} from "../ui.js";

const DEFAULT_LIMIT = 50;
const FILTER_KEYS = ["charge_point_id", "id_tag", "active", "from", "to"];

function filtersOf(query) {
  const filters = {};
  for (const key of FILTER_KEYS) filters[key] = query.get(key) || "";
  if (!["true", "false"].includes(filters.active)) filters.active = "";
  const limit = Number(query.get("limit"));
  const offset = Number(query.get("offset"));
  filters.limit = Number.isInteger(limit) && limit >= 1 && limit <= 500 ? limit : DEFAULT_LIMIT;
  filters.offset = Number.isInteger(offset) && offset >= 0 ? offset : 0;
  return filters;
}

function stateBadge(t) {
  return t.active ? badge("Charging", "info") : badge("Finished", "muted");
}

function duration(t) {
  if (t.active) return durationSince(t.started_at);
  return formatDuration(new Date(t.stopped_at).getTime() - new Date(t.started_at).getTime());
}

function averagePower(t) {
  const hours = (new Date(t.stopped_at).getTime() - new Date(t.started_at).getTime()) / 3_600_000;
  if (!(hours > 0) || t.energy_wh === null) return "—";
  return `${formatNumber(t.energy_wh / 1000 / hours)} kW`;
}

function datalist(id, values) {
  return h("datalist", { id }, values.map((value) => h("option", { value })));
}

export function transactionsView() {
  let root = null;
  let filters = filtersOf(new URLSearchParams());
  let inFlight = null;
  let inFlightGeneration = 0;
  let filtersGeneration = 0;
  let detail = null;
  let openedFromList = false;
  const tbody = h("tbody");
  const errorSlot = h("div", { class: "error-slot" });
  const pager = h("div");
  const summary = h("p", { class: "view-lede" }, "Loading…");
  const stationList = uid("stations");
  const tagList = uid("tags");
  const lists = h("div", { hidden: true });
  const form = {};

  function query(extra = {}) {
    const q = { ...filters, ...extra };
    if (q.limit === DEFAULT_LIMIT) delete q.limit;
    if (!q.offset) delete q.offset;
    return q;
  }

  function renderTable(page) {
    renderRows(
      tbody,
      page.items,
      (t) => t.id,
      (t) => {
        const row = h(
          "tr",
          { class: "clickable" },
          h("td", {}, h("a", { href: hashFor("transactions", t.id, query()), class: "strong", on: { click: () => { openedFromList = true; } } }, `#${t.id}`)),
          h("td", {}, h("a", { href: hashFor("charge-points", t.charge_point_id), class: "mono" }, t.charge_point_id), h("span", { class: "muted" }, ` · ${t.connector_id}`)),
          h("td", { class: "mono" }, t.id_tag, t.authorization_status !== "Accepted" ? h("div", {}, tagStatusBadge(t.authorization_status)) : null),
          h("td", {}, stateBadge(t)),
          h("td", { class: "nowrap" }, timeExact(t.started_at)),
          h("td", { class: "num nowrap" }, duration(t)),
          h("td", { class: "num nowrap" }, t.active ? h("span", { class: "muted" }, "running") : formatKWh(t.energy_wh)),
          h("td", {}, dash(t.stop_reason)),
        );
        row.addEventListener("click", (event) => {
          if (event.target.closest("a, button")) return;
          openedFromList = true;
          navigate("transactions", t.id, query());
        });
        return row;
      },
      8,
      "No transactions match these filters.",
    );
    summary.textContent = `${page.total} transaction${page.total === 1 ? "" : "s"}` + (FILTER_KEYS.some((k) => filters[k]) ? " matching the filters" : "");
    setChildren(
      pager,
      pagination({
        total: page.total,
        limit: filters.limit,
        offset: filters.offset,
        onChange: ({ limit, offset }) => navigate("transactions", null, query({ limit, offset })),
      }),
    );
  }

  async function load(generation) {
    const page = await get("/api/transactions", {
      charge_point_id: filters.charge_point_id,
      id_tag: filters.id_tag,
      active: filters.active,
      from: filters.from,
      to: filters.to,
      limit: filters.limit,
      offset: filters.offset,
    });
    if (!root || generation !== filtersGeneration) return;
    errorSlot.replaceChildren();
    if (page.items.length === 0 && page.total > 0 && filters.offset > 0) {
      navigate("transactions", null, query({ offset: 0 }), { replace: true });
      return;
    }
    renderTable(page);
    if (detail) await detail.refresh();
  }

  function refresh() {
    if (!inFlight || inFlightGeneration !== filtersGeneration) {
      const generation = filtersGeneration;
      inFlightGeneration = generation;
      const promise = load(generation)
        .catch((error) => {
          if (root && generation === filtersGeneration) setChildren(errorSlot, errorBox(error));
        })
        .finally(() => {
          if (inFlight === promise) inFlight = null;
        });
      inFlight = promise;
    }
    return inFlight;
  }

  async function loadSuggestions() {
    try {
      const [points, tags] = await Promise.all([get("/api/charge-points"), get("/api/id-tags", { limit: 500 })]);
      setChildren(lists, datalist(stationList, points.map((p) => p.id)), datalist(tagList, tags.items.map((t) => t.id_tag)));
    } catch {
      // Suggestions are a convenience; the filters work without them.
    }
  }

  function fillForm() {
    form.station.value = filters.charge_point_id;
    form.tag.value = filters.id_tag;
    form.state.value = filters.active;
    form.from.value = toLocalInput(filters.from);
    form.to.value = toLocalInput(filters.to);
  }

  function buildFilters() {
    form.station = h("input", { class: "input mono", list: stationList, autocomplete: "off", placeholder: "Any" });
    form.tag = h("input", { class: "input mono", list: tagList, autocomplete: "off", placeholder: "Any" });
    form.state = select(
      [
        ["", "Any"],
        ["true", "Active (charging)"],
        ["false", "Finished"],
      ],
      "",
      { class: "input" },
    );
    form.from = h("input", { type: "datetime-local", class: "input" });
    form.to = h("input", { type: "datetime-local", class: "input" });
    const node = h(
      "form",
      { class: "filters", role: "search", "aria-label": "Filter transactions" },
      field("Charge point", form.station),
      field("Id tag", form.tag),
      field("State", form.state),
      field("Started from", form.from),
      field("Started before", form.to),
      h(
        "div",
        { class: "filters-actions" },
        button("Apply", { kind: "primary", type: "submit" }),
        button("Reset", { onClick: () => navigate("transactions", null, { limit: filters.limit === DEFAULT_LIMIT ? null : filters.limit }) }),
      ),
    );
    node.addEventListener("submit", (event) => {
      event.preventDefault();
      navigate("transactions", null, {
        charge_point_id: form.station.value.trim(),
        id_tag: form.tag.value.trim(),
        active: form.state.value,
        from: fromLocalInput(form.from.value),
        to: fromLocalInput(form.to.value),
        limit: filters.limit === DEFAULT_LIMIT ? null : filters.limit,
      });
    });
    return node;
  }

  function openDetail(id) {
    const body = h("div", {}, h("p", { class: "muted" }, "Loading…"));
    const subtitle = h("div", { class: "detail-badges" });
    const current = {
      id,
      inFlight: null,
      finished: false,
      signature: "",
      async load() {
        try {
          const t = await get(`/api/transactions/${enc(id)}`);
          const signature = JSON.stringify(t);
          if (signature === current.signature) return;
          current.signature = signature;
          current.finished = !t.active;
          render(t);
        } catch (error) {
          setChildren(body, errorBox(error));
        }
      },
      refresh() {
        if (current.finished) return Promise.resolve();
        if (!current.inFlight) {
          current.inFlight = current.load().finally(() => {
            current.inFlight = null;
          });
        }
        return current.inFlight;
      },
      handle: null,
    };

    const summaryKpis = h("div", { class: "kpis kpis-compact" });
    const chartSlot = h("div");
    const info = h("div", { class: "detail-grid" });
    const samplesBody = h("tbody");
    const samplesSummary = h("summary", {}, "Meter values");
    const samplesDetails = h(
      "details",
      { class: "details" },
      samplesSummary,
      table(
        ["Time", "Measurand", { label: "Value", class: "num" }, "Unit", "Phase", "Context", "Location"],
        samplesBody,
        { caption: "Meter values", className: "table-compact" },
      ),
    );
    const noSamples = h("p", { class: "muted" }, "The station sent no meter values for this session.");
    let samples = [];

    function renderSamples() {
      // Built only while open: long sessions have thousands of samples.
      if (!samplesDetails.open) return;
      samplesBody.replaceChildren(
        ...samples.map((sample) =>
          h(
            "tr",
            {},
            h("td", { class: "nowrap" }, timeExact(sample.timestamp)),
            h("td", {}, sample.measurand),
            h("td", { class: "num", title: sample.raw_value }, sample.value === null ? sample.raw_value : String(sample.value)),
            h("td", {}, dash(sample.unit)),
            h("td", {}, dash(sample.phase)),
            h("td", {}, dash(sample.context)),
            h("td", {}, dash(sample.location)),
          ),
        ),
      );
    }
    samplesDetails.addEventListener("toggle", renderSamples);

    function kpiBox(label, value) {
      return h("div", { class: "kpi" }, h("p", { class: "kpi-label" }, label), h("p", { class: "kpi-value" }, value));
    }

    function render(t) {
      const reading = latestReading(t);
      setChildren(subtitle, stateBadge(t), h("span", { class: "muted" }, "at "), h("a", { href: hashFor("charge-points", t.charge_point_id), class: "mono" }, t.charge_point_id), h("span", { class: "muted" }, ` connector ${t.connector_id}`), t.active ? stopButton(t, { after: () => setTimeout(() => current.refresh(), 1500) }) : null);
      const energy = t.active ? reading.energyWh : t.energy_wh;
      samples = t.meter_values || [];
      setChildren(
        summaryKpis,
        kpiBox(t.active ? "Energy so far" : "Energy", formatKWh(energy)),
        kpiBox("Duration", duration(t)),
        t.active
          ? kpiBox("Power now", reading.powerW !== null ? `${formatNumber(reading.powerW / 1000)} kW` : "—")
          : kpiBox("Average power", averagePower(t)),
      );
      setChildren(chartSlot, meterChart(t));
      setChildren(
        info,
        h(
          "section",
          {},
          h("h3", {}, "Session"),
          definitionList([
            ["Id tag", h("a", { href: hashFor("transactions", null, { id_tag: t.id_tag }), class: "mono" }, t.id_tag)],
            ["Authorisation", tagStatusBadge(t.authorization_status)],
            ["Reservation", t.reservation_id],
            ["Started", timeExact(t.started_at)],
            ["Stopped", t.active ? h("span", { class: "muted" }, "still charging") : timeExact(t.stopped_at)],
            ["Stop reason", t.stop_reason],
            ["Stopped by", t.stop_id_tag],
          ]),
        ),
        h(
          "section",
          {},
          h("h3", {}, "Meter"),
          definitionList([
            ["Meter start", `${formatNumber(t.meter_start_wh, 0)} Wh`],
            ["Meter stop", t.meter_stop_wh === null ? null : `${formatNumber(t.meter_stop_wh, 0)} Wh`],
            ["Energy", formatKWh(energy)],
            ["Samples", String(samples.length)],
          ]),
        ),
      );
      samplesSummary.textContent = `All ${samples.length} meter values`;
      if (!body.contains(summaryKpis)) setChildren(body, summaryKpis, chartSlot, info, samplesDetails, noSamples);
      samplesDetails.hidden = samples.length === 0;
      noSamples.hidden = samples.length > 0;
      renderSamples();
    }

    current.handle = openDialog({
      title: `Transaction #${id}`,
      subtitle,
      wide: true,
      content: body,
      onClose: () => {
        if (detail === current) detail = null;
        const route = parseRoute();
        if (route.name === "transactions" && route.id === id) {
          if (openedFromList) history.back();
          else navigate("transactions", null, query(), { replace: true });
        }
        openedFromList = false;
      },
    });
    detail = current;
    current.refresh();
  }

  function syncDetail(route) {
    if (route.id && (!detail || detail.id !== route.id)) {
      if (detail) {
        const previous = detail;
        detail = null;
        previous.handle.close();
      }
      if (!/^\d+$/.test(route.id)) {
        const handle = openDialog({ title: "Transaction", content: emptyState("No such transaction", `"${route.id}" is not a transaction number.`) });
        handle.dialog.addEventListener("close", () => navigate("transactions", null, query(), { replace: true }));
        return;
      }
      openDetail(route.id);
    } else if (!route.id && detail) {
      const previous = detail;
      detail = null;
      previous.handle.close();
    }
  }

  return {
    title: "Transactions",
    mount(container, route) {
      filters = filtersOf(route.query);
      root = h(
        "div",
        { class: "view" },
        h("div", { class: "view-header" }, h("div", {}, h("h1", {}, "Transactions"), summary)),
        h("div", { class: "panel" }, buildFilters()),
        errorSlot,
        h("div", { class: "panel panel-flush" }, table(["Session", "Charge point · connector", "Id tag", "State", "Started", { label: "Duration", class: "num" }, { label: "Energy", class: "num" }, "Stop reason"], tbody, { caption: "Transactions" }), pager),
        lists,
      );
      container.append(root);
      fillForm();
      loadSuggestions();
      syncDetail(route);
    },
    update(route) {
      const next = filtersOf(route.query);
      if (JSON.stringify(next) !== JSON.stringify(filters)) {
        filters = next;
        filtersGeneration += 1;
        fillForm();
        refresh();
      }
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
