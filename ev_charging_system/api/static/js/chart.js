// A small dependency-free SVG chart of a session: energy charged (kWh, left axis, area)
// and active power (kW, right axis, line) over time, with a hover read-out.

import { t, tn } from "./i18n.js";

import { h, s, uid } from "./dom.js";
import { formatDecimal, formatKW, formatKWh, formatTime } from "./format.js";

const ENERGY = "Energy.Active.Import.Register";
const POWER = "Power.Active.Import";
const WIDTH = 760;
const HEIGHT = 280;
const MARGIN = { top: 28, right: 60, bottom: 34, left: 60 };

/** A round axis: 3 to 6 steps of 1, 2, 2.5 or 5 × 10^n covering `value`. */
function niceAxis(value) {
  if (!(value > 0)) return { max: 1, step: 0.25 };
  const raw = value / 4;
  let magnitude = 10 ** Math.floor(Math.log10(raw));
  for (;;) {
    for (const factor of [1, 2, 2.5, 5]) {
      const step = factor * magnitude;
      if (step * 6 >= value && step >= raw / 2) {
        const count = Math.max(3, Math.ceil(value / step - 1e-9));
        return { max: count * step, step };
      }
    }
    magnitude *= 10;
  }
}

/** One value per timestamp: the phase-less sample if any, otherwise the sum of the phases. */
function series(samples, measurand, scale) {
  const chosen = samples.filter(
    (sample) => sample.measurand === measurand && sample.value !== null && sample.location !== "EV",
  );
  const total = chosen.filter((sample) => !sample.phase);
  const byTime = new Map();
  for (const sample of total.length ? total : chosen) {
    const time = new Date(sample.timestamp).getTime();
    if (Number.isNaN(time)) continue;
    const value = Number(sample.value) * scale(sample.unit);
    if (total.length) byTime.set(time, value);
    else byTime.set(time, (byTime.get(time) || 0) + value);
  }
  return [...byTime.entries()].map(([time, v]) => ({ t: time, v })).sort((a, b) => a.t - b.t);
}

const energyScale = (unit) => (unit === "kWh" ? 1000 : 1);
const powerScale = (unit) => (unit === "kW" ? 1000 : 1);

/** The register samples as energy charged in this session (Wh), with start and stop points. */
export function sessionSeries(transaction) {
  const samples = transaction.meter_values || [];
  const start = transaction.meter_start_wh;
  const energy = series(samples, ENERGY, energyScale).map((p) => ({ t: p.t, v: Math.max(0, p.v - start) }));
  const startedAt = new Date(transaction.started_at).getTime();
  if (!Number.isNaN(startedAt) && !energy.some((p) => p.t === startedAt)) {
    energy.push({ t: startedAt, v: 0 });
  }
  if (transaction.stopped_at && transaction.meter_stop_wh !== null) {
    const stoppedAt = new Date(transaction.stopped_at).getTime();
    if (!Number.isNaN(stoppedAt) && !energy.some((p) => p.t === stoppedAt)) {
      energy.push({ t: stoppedAt, v: Math.max(0, transaction.meter_stop_wh - start) });
    }
  }
  energy.sort((a, b) => a.t - b.t);
  return { energy, power: series(samples, POWER, powerScale) };
}

/** The latest energy (Wh since start) and power (W) of a running session, or nulls. */
export function latestReading(transaction) {
  const { energy, power } = sessionSeries(transaction);
  const lastEnergy = energy.length ? energy[energy.length - 1] : null;
  const lastPower = power.length ? power[power.length - 1] : null;
  return {
    energyWh: lastEnergy ? lastEnergy.v : null,
    powerW: lastPower ? lastPower.v : null,
    at: Math.max(lastEnergy ? lastEnergy.t : 0, lastPower ? lastPower.t : 0) || null,
  };
}

function linePath(points, x, y) {
  return points.map((p, i) => `${i ? "L" : "M"}${x(p.t).toFixed(1)},${y(p.v).toFixed(1)}`).join("");
}

export function meterChart(transaction) {
  const { energy, power } = sessionSeries(transaction);
  return energyPowerChart(energy, power, { title: t("Energy and power over the session") });
}

/** A station's charging over the last hours, from its 15-minute buckets (GET .../power):
 * energy charged since the first bucket, and mean power at each bucket's middle. */
export function stationPowerChart(points) {
  const energy = [];
  const power = [];
  let total = 0;
  for (const point of points) {
    const start = new Date(point.bucket_start).getTime();
    if (point.energy_wh !== null) {
      if (!energy.length) energy.push({ t: start, v: 0 });
      total += point.energy_wh;
      energy.push({ t: start + 15 * 60_000, v: total });
    }
    if (point.average_w !== null) power.push({ t: start + 7.5 * 60_000, v: point.average_w });
  }
  return energyPowerChart(energy, power, { title: t("Energy and power over the last hours") });
}

function energyPowerChart(energy, power, { title }) {
  const times = [...energy, ...power].map((p) => p.t);
  if (energy.length < 2 && power.length < 2) {
    return h(
      "p",
      { class: "chart-empty muted" },
      t("Not enough meter values to draw a chart yet."),
    );
  }
  let t0 = Math.min(...times);
  let t1 = Math.max(...times);
  if (t1 - t0 < 1000) {
    t0 -= 30_000;
    t1 += 30_000;
  }
  const energyAxis = niceAxis(Math.max(10, ...energy.map((p) => p.v)) / 1000);
  const powerAxis = niceAxis(Math.max(100, ...power.map((p) => p.v)) / 1000);
  const energyMax = energyAxis.max * 1000;
  const powerMax = powerAxis.max * 1000;
  const plotW = WIDTH - MARGIN.left - MARGIN.right;
  const plotH = HEIGHT - MARGIN.top - MARGIN.bottom;
  const x = (time) => MARGIN.left + ((time - t0) / (t1 - t0)) * plotW;
  const yE = (v) => MARGIN.top + plotH - (v / energyMax) * plotH;
  const yP = (v) => MARGIN.top + plotH - (v / powerMax) * plotH;
  const withSeconds = t1 - t0 < 10 * 60_000;

  const grid = [];
  // As many decimals as the step needs (0.0025 kWh steps: 4), so no two labels read alike.
  const label = (value, step) => formatDecimal(value, [0, 1, 2, 3, 4].find((d) => Math.abs(Math.round(step * 10 ** d) - step * 10 ** d) < 1e-6) ?? 4);
  for (let i = 0; i * energyAxis.step <= energyAxis.max + 1e-9; i += 1) {
    const v = i * energyAxis.step;
    const y = yE(v * 1000);
    grid.push(s("line", { class: "chart-grid", x1: MARGIN.left, x2: MARGIN.left + plotW, y1: y, y2: y }));
    grid.push(s("text", { class: "chart-label chart-label-energy", x: MARGIN.left - 8, y: y + 4, "text-anchor": "end" }, label(v, energyAxis.step)));
  }
  if (power.length) {
    for (let i = 0; i * powerAxis.step <= powerAxis.max + 1e-9; i += 1) {
      const v = i * powerAxis.step;
      grid.push(s("text", { class: "chart-label chart-label-power", x: MARGIN.left + plotW + 8, y: yP(v * 1000) + 4 }, label(v, powerAxis.step)));
    }
  }
  const ticks = [];
  let previousLabel = "";
  for (let i = 0; i <= 4; i += 1) {
    const time = t0 + ((t1 - t0) * i) / 4;
    const text = formatTime(new Date(time), withSeconds);
    if (text === previousLabel) continue;
    previousLabel = text;
    ticks.push(
      s(
        "text",
        {
          class: "chart-label",
          x: x(time),
          y: HEIGHT - 10,
          "text-anchor": i === 0 ? "start" : i === 4 ? "end" : "middle",
        },
        text,
      ),
    );
  }

  const layers = [];
  if (energy.length >= 1) {
    const line = linePath(energy, x, yE);
    const baseline = (MARGIN.top + plotH).toFixed(1);
    const area = `${line}L${x(energy[energy.length - 1].t).toFixed(1)},${baseline}L${x(energy[0].t).toFixed(1)},${baseline}Z`;
    layers.push(s("path", { class: "chart-energy-area", d: area }));
    layers.push(s("path", { class: "chart-energy-line", d: line }));
    if (energy.length <= 24) {
      for (const p of energy) layers.push(s("circle", { class: "chart-energy-dot", cx: x(p.t), cy: yE(p.v), r: 2.5 }));
    }
  }
  if (power.length >= 1) {
    layers.push(s("path", { class: "chart-power-line", d: linePath(power, x, yP) }));
    if (power.length <= 24) {
      for (const p of power) layers.push(s("circle", { class: "chart-power-dot", cx: x(p.t), cy: yP(p.v), r: 2.5 }));
    }
  }

  const lastEnergy = energy.length ? energy[energy.length - 1].v : null;
  const peakPower = power.length ? Math.max(...power.map((p) => p.v)) : null;
  const titleId = uid("chart-title");
  const descId = uid("chart-desc");
  const description =
    t("Energy charged rises to {energy} between {start} and {end}.", { energy: formatKWh(lastEnergy), start: formatTime(new Date(t0), true), end: formatTime(new Date(t1), true) }) +
    (peakPower !== null ? ` ${t("Peak power {power}.", { power: formatKW(peakPower) })}` : "");

  const cursor = s("line", { class: "chart-cursor", x1: 0, x2: 0, y1: MARGIN.top, y2: MARGIN.top + plotH, visibility: "hidden" });
  const readout = h("p", { class: "chart-readout muted" }, t("Point at the chart to read values."));
  const overlay = s("rect", { class: "chart-overlay", x: MARGIN.left, y: MARGIN.top, width: plotW, height: plotH });
  const svgNode = s(
    "svg",
    {
      class: "chart",
      viewBox: `0 0 ${WIDTH} ${HEIGHT}`,
      role: "img",
      "aria-labelledby": `${titleId} ${descId}`,
      preserveAspectRatio: "xMidYMid meet",
    },
    s("title", { id: titleId }, title),
    s("desc", { id: descId }, description),
    grid,
    s("line", { class: "chart-axis", x1: MARGIN.left, x2: MARGIN.left + plotW, y1: MARGIN.top + plotH, y2: MARGIN.top + plotH }),
    ticks,
    s("text", { class: "chart-unit chart-label-energy", x: MARGIN.left - 8, y: 12, "text-anchor": "end" }, "kWh"),
    power.length ? s("text", { class: "chart-unit chart-label-power", x: MARGIN.left + plotW + 8, y: 12 }, "kW") : null,
    layers,
    cursor,
    overlay,
  );

  const nearest = (points, time) => {
    let best = null;
    for (const p of points) if (p.t <= time && (!best || p.t > best.t)) best = p;
    return best;
  };
  overlay.addEventListener("pointermove", (event) => {
    const box = svgNode.getBoundingClientRect();
    const px = ((event.clientX - box.left) / box.width) * WIDTH;
    const time = t0 + ((px - MARGIN.left) / plotW) * (t1 - t0);
    const candidates = [...energy, ...power];
    if (!candidates.length) return;
    const snap = candidates.reduce((a, b) => (Math.abs(b.t - time) < Math.abs(a.t - time) ? b : a));
    const e = nearest(energy, snap.t);
    const p = nearest(power, snap.t);
    cursor.setAttribute("x1", x(snap.t));
    cursor.setAttribute("x2", x(snap.t));
    cursor.setAttribute("visibility", "visible");
    readout.textContent =
      `${formatTime(new Date(snap.t), true)} · ${t("{energy} charged", { energy: e ? formatKWh(e.v) : "—" })}` +
      (power.length ? ` · ${p ? formatKW(p.v) : "—"}` : "");
  });
  overlay.addEventListener("pointerleave", () => cursor.setAttribute("visibility", "hidden"));

  const legend = h(
    "ul",
    { class: "chart-legend" },
    h("li", {}, h("span", { class: "swatch swatch-energy", "aria-hidden": "true" }), t("Energy charged (kWh)")),
    power.length ? h("li", {}, h("span", { class: "swatch swatch-power", "aria-hidden": "true" }), t("Power (kW)")) : null,
  );
  return h("figure", { class: "chart-figure" }, svgNode, h("figcaption", { class: "chart-caption" }, legend, readout));
}
