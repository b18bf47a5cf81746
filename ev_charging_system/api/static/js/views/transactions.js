// Transactions: filterable, paginated sessions and a detail dialog with the meter chart.

import { download, enc, get } from "../api.js";
import { latestReading, meterChart } from "../chart.js";
import { h, renderRows, setChildren, uid } from "../dom.js";
import { formatDuration, formatNumber, fromLocalInput, toLocalInput } from "../format.js";
import { t, tn } from "../i18n.js";
import { averagePowerCell, energyCell, powerCell } from "../plausible.js";
import { hashFor, navigate, parseRoute } from "../router.js";
import { stopButton } from "./remote.js";
import {
  badge,
  busy,
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

function stateBadge(tx) {
  return tx.active ? badge(t("Charging"), "info") : badge(t("Finished"), "muted");
}

function duration(tx) {
  if (tx.active) return durationSince(tx.started_at);
  return formatDuration(new Date(tx.stopped_at).getTime() - new Date(tx.started_at).getTime());
}

function averagePower(tx) {
  return averagePowerCell(tx.energy_wh, tx.started_at, tx.stopped_at);
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
  const summary = h("p", { class: "view-lede" }, t("Loading…"));
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
      (tx) => tx.id,
      (tx) => {
        const row = h(
          "tr",
          { class: "clickable" },
          h("td", {}, h("a", { href: hashFor("transactions", tx.id, query()), class: "strong", on: { click: () => { openedFromList = true; } } }, `#${tx.id}`)),
          h("td", {}, h("a", { href: hashFor("charge-points", tx.charge_point_id), class: "mono" }, tx.charge_point_id), h("span", { class: "muted" }, ` · ${tx.connector_id}`)),
          h("td", { class: "mono" }, tx.id_tag, tx.authorization_status !== "Accepted" ? h("div", {}, tagStatusBadge(tx.authorization_status)) : null),
          h("td", {}, stateBadge(tx)),
          h("td", { class: "nowrap" }, timeExact(tx.started_at)),
          h("td", { class: "num nowrap" }, duration(tx)),
          h("td", { class: "num nowrap" }, tx.active ? h("span", { class: "muted" }, t("running")) : energyCell(tx.energy_wh)),
          h("td", {}, dash(tx.stop_reason)),
        );
        row.addEventListener("click", (event) => {
          if (event.target.closest("a, button")) return;
          openedFromList = true;
          navigate("transactions", tx.id, query());
        });
        return row;
      },
      8,
      t("No transactions match these filters."),
    );
    summary.textContent = FILTER_KEYS.some((k) => filters[k]) ? tn(page.total, "{count} transaction matching the filters", "{count} transactions matching the filters") : tn(page.total, "{count} transaction", "{count} transactions");
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

  const exportButton = button(t("Export CSV"), {
    title: t("Every transaction matching the filters, as a spreadsheet file"),
  });
  exportButton.addEventListener("click", () =>
    busy(exportButton, () =>
      download(
        "/api/transactions/export.csv",
        { charge_point_id: filters.charge_point_id, id_tag: filters.id_tag, active: filters.active, from: filters.from, to: filters.to },
        "transactions.csv",
      ),
    ),
  );

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
      const [points, tags] = await Promise.all([get("/api/charge-points", { limit: 500 }), get("/api/id-tags", { limit: 500 })]);
      setChildren(lists, datalist(stationList, points.items.map((p) => p.id)), datalist(tagList, tags.items.map((tx) => tx.id_tag)));
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
    form.station = h("input", { class: "input mono", list: stationList, autocomplete: "off", placeholder: t("Any") });
    form.tag = h("input", { class: "input mono", list: tagList, autocomplete: "off", placeholder: t("Any") });
    form.state = select(
      [
        ["", t("Any")],
        ["true", t("Active (charging)")],
        ["false", t("Finished")],
      ],
      "",
      { class: "input" },
    );
    form.from = h("input", { type: "datetime-local", class: "input" });
    form.to = h("input", { type: "datetime-local", class: "input" });
    const node = h(
      "form",
      { class: "filters", role: "search", "aria-label": t("Filter transactions") },
      field(t("Charge point"), form.station),
      field(t("Id tag"), form.tag),
      field(t("State"), form.state),
      field(t("Started from"), form.from),
      field(t("Started before"), form.to),
      h(
        "div",
        { class: "filters-actions" },
        button(t("Apply"), { kind: "primary", type: "submit" }),
        button(t("Reset"), { onClick: () => navigate("transactions", null, { limit: filters.limit === DEFAULT_LIMIT ? null : filters.limit }) }),
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
    const body = h("div", {}, h("p", { class: "muted" }, t("Loading…")));
    const subtitle = h("div", { class: "detail-badges" });
    const current = {
      id,
      inFlight: null,
      finished: false,
      signature: "",
      async load() {
        try {
          const tx = await get(`/api/transactions/${enc(id)}`);
          const signature = JSON.stringify(tx);
          if (signature === current.signature) return;
          current.signature = signature;
          current.finished = !tx.active;
          render(tx);
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
    const samplesSummary = h("summary", {}, t("Meter values"));
    const samplesDetails = h(
      "details",
      { class: "details" },
      samplesSummary,
      table(
        [t("Time"), t("Measurand"), { label: t("Value"), class: "num" }, t("Unit"), t("Phase"), t("Context"), t("Location")],
        samplesBody,
        { caption: t("Meter values"), className: "table-compact" },
      ),
    );
    const noSamples = h("p", { class: "muted" }, t("The station sent no meter values for this session."));
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

    function render(tx) {
      const reading = latestReading(tx);
      setChildren(subtitle, stateBadge(tx), h("span", { class: "muted" }, t("at")), " ", h("a", { href: hashFor("charge-points", tx.charge_point_id), class: "mono" }, tx.charge_point_id), " ", h("span", { class: "muted" }, t("connector {id}", { id: tx.connector_id })), tx.active ? stopButton(tx, { after: () => setTimeout(() => current.refresh(), 1500) }) : null);
      const energy = tx.active ? reading.energyWh : tx.energy_wh;
      samples = tx.meter_values || [];
      setChildren(
        summaryKpis,
        kpiBox(tx.active ? t("Energy so far") : t("Energy"), energyCell(energy)),
        kpiBox(t("Duration"), duration(tx)),
        tx.active
          ? kpiBox(t("Power now"), powerCell(reading.powerW))
          : kpiBox(t("Average power"), averagePower(tx)),
      );
      setChildren(chartSlot, meterChart(tx));
      setChildren(
        info,
        h(
          "section",
          {},
          h("h3", {}, t("Session")),
          definitionList([
            [t("Id tag"), h("a", { href: hashFor("transactions", null, { id_tag: tx.id_tag }), class: "mono" }, tx.id_tag)],
            [t("Authorisation"), tagStatusBadge(tx.authorization_status)],
            [t("Reservation"), tx.reservation_id],
            [t("Started"), timeExact(tx.started_at)],
            [t("Stopped"), tx.active ? h("span", { class: "muted" }, t("still charging")) : timeExact(tx.stopped_at)],
            [t("Stop reason"), tx.stop_reason],
            [t("Stopped by"), tx.stop_id_tag],
          ]),
        ),
        h(
          "section",
          {},
          h("h3", {}, t("Meter")),
          definitionList([
            [t("Meter start"), `${formatNumber(tx.meter_start_wh, 0)} Wh`],
            [t("Meter stop"), tx.meter_stop_wh === null ? null : `${formatNumber(tx.meter_stop_wh, 0)} Wh`],
            [t("Energy"), energyCell(energy)],
            [t("Samples"), String(samples.length)],
          ]),
        ),
      );
      samplesSummary.textContent = tn(samples.length, "The {count} meter value", "All {count} meter values");
      if (!body.contains(summaryKpis)) setChildren(body, summaryKpis, chartSlot, info, samplesDetails, noSamples);
      samplesDetails.hidden = samples.length === 0;
      noSamples.hidden = samples.length > 0;
      renderSamples();
    }

    current.handle = openDialog({
      title: t("Transaction #{id}", { id }),
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
        const handle = openDialog({ title: t("Transaction"), content: emptyState(t("No such transaction"), t("“{id}” is not a transaction number.", { id: route.id })) });
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
    title: t("Transactions"),
    // With the event stream up nothing polls: these events make the list read itself again.
    events: ["transaction."],
    mount(container, route) {
      filters = filtersOf(route.query);
      root = h(
        "div",
        { class: "view" },
        h("div", { class: "view-header" }, h("div", {}, h("h1", {}, t("Transactions")), summary), exportButton),
        h("div", { class: "panel" }, buildFilters()),
        errorSlot,
        h("div", { class: "panel panel-flush" }, table([t("Session"), t("Charge point · connector"), t("Id tag"), t("State"), t("Started"), { label: t("Duration"), class: "num" }, { label: t("Energy"), class: "num" }, t("Stop reason")], tbody, { caption: t("Transactions") }), pager),
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
