// The schedule behind an energy plan as a dependency-free SVG: power flows in kW (PV as an
// area, load, battery, vehicles and grid as step lines, + import/charge, - export/discharge),
// the import price as a step line on the right axis, and the battery's state of charge in a
// strip below. Series can be switched off in the legend; pointing shows one step's values.

import { t, tn } from "./i18n.js";

import { h, s, uid } from "./dom.js";
import { formatDateWith, formatTime, numberFormat } from "./format.js";

const WIDTH = 960;
const POWER_H = 300;
const SOC_H = 96;
const GAP = 26;
const HEIGHT = POWER_H + GAP + SOC_H + 30;
const M = { top: 26, right: 64, left: 56 };
const STEP_MS = 15 * 60 * 1000;
const number = numberFormat({ maximumFractionDigits: 2 });
const price = numberFormat({ minimumFractionDigits: 3, maximumFractionDigits: 3 });

/** A round axis covering [min, max] with 3 to 7 ticks (0 is always a tick). */
function niceRange(min, max) {
  const lo = Math.min(0, min);
  const hi = Math.max(0, max);
  const span = hi - lo || 1;
  const raw = span / 5;
  const magnitude = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 2.5, 5, 10].map((f) => f * magnitude).find((candidate) => span / candidate <= 6) || 10 * magnitude;
  return { min: Math.floor(lo / step + 1e-9) * step, max: Math.ceil(hi / step - 1e-9) * step || step, step };
}

/** The series of a plan, with their values per step. */
export function planSeries(plan) {
  const steps = plan.steps || [];
  const vehicles = ((plan.snapshot && plan.snapshot.vehicles) || []).map((v) => v.vehicle_id);
  const count = Math.max(vehicles.length, ...steps.map((st) => (st.vehicle_kw || []).length), 0);
  const series = [
    { key: "pv", label: t("PV"), unit: "kW", kind: "area", values: steps.map((st) => st.pv_kw) },
    { key: "load", label: t("House load"), unit: "kW", kind: "line", values: steps.map((st) => st.critical_load_kw + st.flexible_load_kw - st.shed_kw) },
    { key: "battery", label: t("Battery (+ charge)"), unit: "kW", kind: "line", values: steps.map((st) => st.battery_kw) },
  ];
  for (let i = 0; i < Math.min(count, 3); i += 1) {
    series.push({ key: `vehicle${i}`, cls: `vehicle vehicle-${i}`, label: t("EV {name}", { name: vehicles[i] || i + 1 }), unit: "kW", kind: "line", values: steps.map((st) => (st.vehicle_kw || [])[i] || 0) });
  }
  if (count > 3) {
    series.push({ key: "vehicle-rest", cls: "vehicle vehicle-rest", label: t("Other EVs"), unit: "kW", kind: "line", values: steps.map((st) => (st.vehicle_kw || []).slice(3).reduce((a, b) => a + b, 0)) });
  }
  series.push({ key: "grid", label: t("Grid (+ import)"), unit: "kW", kind: "line", values: steps.map((st) => st.grid_kw) });
  if (steps.some((st) => st.shed_kw > 1e-6)) series.push({ key: "shed", label: t("Load shed"), unit: "kW", kind: "line", values: steps.map((st) => st.shed_kw) });
  if (steps.some((st) => st.curtailed_kw > 1e-6)) series.push({ key: "curtailed", label: t("PV curtailed"), unit: "kW", kind: "line", values: steps.map((st) => st.curtailed_kw) });
  return {
    steps,
    times: steps.map((st) => new Date(st.start).getTime()),
    power: series,
    price: { key: "price", label: t("Import price"), unit: "/kWh", values: steps.map((st) => st.import_price) },
    soc: { key: "soc", label: t("Battery state of charge"), unit: "kWh", values: steps.map((st) => st.battery_soc_kwh) },
  };
}

function stepPath(values, x, y, t0, times) {
  let d = "";
  values.forEach((v, i) => {
    const xa = x(times[i] ?? t0 + i * STEP_MS);
    const xb = x((times[i] ?? t0 + i * STEP_MS) + STEP_MS);
    const yv = y(v).toFixed(1);
    d += `${i ? "L" : "M"}${xa.toFixed(1)},${yv}L${xb.toFixed(1)},${yv}`;
  });
  return d;
}

function areaPath(values, x, y, t0, times) {
  if (!values.length) return "";
  const line = stepPath(values, x, y, t0, times);
  const first = x(times[0] ?? t0).toFixed(1);
  const last = x((times[values.length - 1] ?? t0) + STEP_MS).toFixed(1);
  const base = y(0).toFixed(1);
  return `M${first},${base}${line.replace(/^M/, "L")}L${last},${base}Z`;
}

/** The plan as a table (the chart's accessible equivalent), built when opened. */
function dataTable(series) {
  const details = h("details", { class: "details chart-table" }, h("summary", {}, t("Show the schedule as a table")));
  details.addEventListener("toggle", () => {
    if (!details.open || details.querySelector("table")) return;
    const columns = [...series.power, series.soc, series.price];
    details.append(
      h(
        "div",
        { class: "table-wrap", tabindex: "0" },
        h(
          "table",
          { class: "table table-compact" },
          h("caption", { class: "visually-hidden" }, t("Plan schedule per 15-minute step")),
          h("thead", {}, h("tr", {}, h("th", { scope: "col" }, t("Step")), columns.map((c) => h("th", { scope: "col", class: "num" }, `${c.label} (${c.unit})`)))),
          h(
            "tbody",
            {},
            series.steps.map((st, i) =>
              h(
                "tr",
                {},
                h("th", { scope: "row", class: "nowrap" }, formatTime(new Date(series.times[i]))),
                columns.map((c) => h("td", { class: "num" }, c === series.price ? price.format(c.values[i]) : number.format(c.values[i]))),
              ),
            ),
          ),
        ),
      ),
    );
  });
  return details;
}

/** The chart of a plan's schedule (`plan` as GET /energy/plan returns it). */
export function planChart(plan, { hidden = new Set(), onToggle } = {}) {
  const series = planSeries(plan);
  if (series.steps.length < 1) return h("p", { class: "chart-empty muted" }, t("This plan has no schedule."));
  const t0 = series.times[0];
  const t1 = series.times[series.times.length - 1] + STEP_MS;
  const plotW = WIDTH - M.left - M.right;
  const x = (time) => M.left + ((time - t0) / (t1 - t0)) * plotW;
  const all = series.power.flatMap((sr) => sr.values);
  const range = niceRange(Math.min(...all), Math.max(...all, 0.5));
  const y = (v) => M.top + ((range.max - v) / (range.max - range.min)) * (POWER_H - M.top);
  // Prices share the power axis' zero line when none is negative, so "0" means the same
  // height on both sides; negative prices (dynamic tariffs) get the full height.
  const prices = series.price.values;
  const priceRange = niceRange(Math.min(0, ...prices), Math.max(...prices, 0.01));
  const priceBottom = priceRange.min < 0 ? POWER_H : y(0);
  const yPrice = (v) => M.top + ((priceRange.max - v) / (priceRange.max - priceRange.min)) * (priceBottom - M.top);
  const socTop = POWER_H + GAP;
  const capacity = plan.snapshot && plan.snapshot.battery ? plan.snapshot.battery.capacity_kwh : Math.max(...series.soc.values, 1);
  const socMax = Math.max(capacity, ...series.soc.values, 0.1);
  const ySoc = (v) => socTop + SOC_H - (v / socMax) * SOC_H;

  const grid = [];
  for (let v = range.min; v <= range.max + 1e-9; v += range.step) {
    const yy = y(v);
    grid.push(s("line", { class: ["chart-grid", Math.abs(v) < 1e-9 && "chart-zero"], x1: M.left, x2: M.left + plotW, y1: yy, y2: yy }));
    grid.push(s("text", { class: "chart-label", x: M.left - 8, y: yy + 4, "text-anchor": "end" }, number.format(v)));
  }
  for (let v = priceRange.min; v <= priceRange.max + 1e-9; v += priceRange.step) {
    grid.push(s("text", { class: "chart-label chart-label-price", x: M.left + plotW + 8, y: yPrice(v) + 4 }, price.format(v)));
  }
  grid.push(s("line", { class: "chart-axis", x1: M.left, x2: M.left + plotW, y1: socTop + SOC_H, y2: socTop + SOC_H }));
  grid.push(s("line", { class: "chart-grid", x1: M.left, x2: M.left + plotW, y1: socTop, y2: socTop }));
  grid.push(s("text", { class: "chart-label", x: M.left - 8, y: socTop + 4, "text-anchor": "end" }, number.format(socMax)));
  grid.push(s("text", { class: "chart-label", x: M.left - 8, y: socTop + SOC_H + 4, "text-anchor": "end" }, "0"));

  // Time ticks every 1, 2, 3, 6 or 12 hours; a date where a day starts.
  const hours = (t1 - t0) / 3_600_000;
  const every = [1, 2, 3, 6, 12].find((n) => hours / n <= 9) || 24;
  const first = new Date(t0);
  first.setMinutes(0, 0, 0);
  first.setHours(first.getHours() + 1);
  const ticks = [];
  for (let time = first.getTime(); time < t1; time += 3_600_000) {
    const d = new Date(time);
    if (d.getHours() % every !== 0) continue;
    const label = d.getHours() === 0 ? formatDateWith(d, { weekday: "short", day: "numeric" }) : formatTime(d);
    ticks.push(s("line", { class: ["chart-tick", d.getHours() === 0 && "chart-midnight"], x1: x(time), x2: x(time), y1: M.top, y2: socTop + SOC_H }));
    ticks.push(s("text", { class: "chart-label", x: x(time), y: HEIGHT - 8, "text-anchor": "middle" }, label));
  }

  const layers = series.power.map((sr) =>
    s("path", {
      class: [sr.kind === "area" ? "plan-area" : "plan-line", `series-${sr.cls || sr.key}`],
      d: sr.kind === "area" ? areaPath(sr.values, x, y, t0, series.times) : stepPath(sr.values, x, y, t0, series.times),
      dataset: { series: sr.key },
      visibility: hidden.has(sr.key) ? "hidden" : null,
    }),
  );
  layers.push(s("path", { class: "plan-line series-price", d: stepPath(prices, x, yPrice, t0, series.times), dataset: { series: "price" }, visibility: hidden.has("price") ? "hidden" : null }));
  const socLayer = [
    s("path", { class: "plan-area series-soc", d: areaPath(series.soc.values, x, ySoc, t0, series.times) }),
    s("path", { class: "plan-line series-soc", d: stepPath(series.soc.values, x, ySoc, t0, series.times) }),
  ];

  const titleId = uid("plan-title");
  const descId = uid("plan-desc");
  const peak = (values) => Math.max(...values);
  const description =
    t("Schedule of {steps} 15-minute steps from {start}: PV up to {pv} kW, grid import up to {grid} kW, battery {socStart} to {socEnd} kWh, import price {priceMin} to {priceMax}.", {
      steps: series.steps.length,
      start: formatTime(new Date(t0)),
      pv: number.format(peak(series.power[0].values)),
      grid: number.format(Math.max(0, peak(series.power.find((p) => p.key === "grid").values))),
      socStart: number.format(series.soc.values[0]),
      socEnd: number.format(series.soc.values[series.soc.values.length - 1]),
      priceMin: price.format(Math.min(...prices)),
      priceMax: price.format(Math.max(...prices)),
    });
  const cursor = s("line", { class: "chart-cursor", x1: 0, x2: 0, y1: M.top, y2: socTop + SOC_H, visibility: "hidden" });
  const overlay = s("rect", { class: "chart-overlay", x: M.left, y: M.top, width: plotW, height: socTop + SOC_H - M.top });
  const svgNode = s(
    "svg",
    { class: "chart plan-chart", viewBox: `0 0 ${WIDTH} ${HEIGHT}`, role: "img", "aria-labelledby": `${titleId} ${descId}`, preserveAspectRatio: "xMidYMid meet" },
    s("title", { id: titleId }, t("Planned power flows, price and battery charge")),
    s("desc", { id: descId }, description),
    s("text", { class: "chart-unit", x: M.left - 8, y: 14, "text-anchor": "end" }, "kW"),
    s("text", { class: "chart-unit chart-label-price", x: M.left + plotW + 8, y: 14 }, t("price")),
    s("text", { class: "chart-unit", x: M.left + 4, y: socTop - 6 }, t("Battery kWh")),
    grid,
    ticks,
    layers,
    socLayer,
    cursor,
    overlay,
  );

  const readout = h("p", { class: "chart-readout muted", "aria-live": "off" }, t("Point at the chart to read one step."));
  overlay.addEventListener("pointermove", (event) => {
    const box = svgNode.getBoundingClientRect();
    const px = ((event.clientX - box.left) / box.width) * WIDTH;
    const time = t0 + ((px - M.left) / plotW) * (t1 - t0);
    const i = Math.max(0, Math.min(series.steps.length - 1, Math.floor((time - t0) / STEP_MS)));
    const cx = x(series.times[i] + STEP_MS / 2);
    cursor.setAttribute("x1", cx);
    cursor.setAttribute("x2", cx);
    cursor.setAttribute("visibility", "visible");
    readout.textContent =
      `${formatTime(new Date(series.times[i]))}–${formatTime(new Date(series.times[i] + STEP_MS))} · ` +
      series.power.map((sr) => `${sr.label.replace(/ \(.*\)$/, "")} ${number.format(sr.values[i])} kW`).join(" · ") +
      ` · ${t("battery {soc} kWh", { soc: number.format(series.soc.values[i]) })} · ${t("price {price}", { price: price.format(prices[i]) })}`;
  });
  overlay.addEventListener("pointerleave", () => cursor.setAttribute("visibility", "hidden"));

  const legend = h(
    "ul",
    { class: "chart-legend plan-legend", "aria-label": t("Series (untick to hide)") },
    [...series.power, series.price].map((sr) => {
      const input = h("input", { type: "checkbox", checked: !hidden.has(sr.key) });
      input.addEventListener("change", () => {
        for (const node of svgNode.querySelectorAll(`[data-series="${sr.key}"]`)) node.setAttribute("visibility", input.checked ? "visible" : "hidden");
        if (onToggle) onToggle(sr.key, !input.checked);
      });
      return h("li", {}, h("label", { class: "legend-toggle" }, input, h("span", { class: ["swatch", `swatch-${sr.cls ? sr.cls.split(" ")[1] : sr.key}`], "aria-hidden": "true" }), sr.label));
    }),
    h("li", {}, h("span", { class: "swatch swatch-soc", "aria-hidden": "true" }), t("Battery charge (kWh)")),
  );
  return h("figure", { class: "chart-figure" }, svgNode, h("figcaption", { class: "chart-caption" }, legend, readout), dataTable(series));
}
