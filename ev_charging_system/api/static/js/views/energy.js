// Energy: the site's live state (PV, home battery, vehicles, loads), the coordinator's
// current plan and why, the policy, manual measurements and setpoints, site configuration,
// tariff and recent plans.

import { t, tn } from "../i18n.js";

import { fieldErrors, get, post, put } from "../api.js";
import { h, renderRows, setChildren, truncate, uid } from "../dom.js";
import { planChart } from "../energy-chart.js";
import { formatDateTime, fromLocalInput, numberFormat } from "../format.js";
import { parseRoute } from "../router.js";
import {
  badge,
  busy,
  button,
  errorBox,
  field,
  panel,
  reportError,
  segmented,
  select,
  showFieldErrors,
  singleFlight,
  table,
  tabs,
  timeAgo,
  toast,
} from "../ui.js";
import { deferrableLoadsEditor } from "./energy-jobs.js";
import { configEditor, tariffEditor } from "./energy-settings.js";

const POLICY_LABELS = {
  optimize: [t("Optimize"), t("Lowest cost over the horizon (linear program), with a rule-based fallback")],
  pv_surplus: [t("PV surplus"), t("Charge the vehicle and battery from solar surplus only")],
  rule: [t("Rule"), t("The seed's simple rules: no forecast, no prices")],
};
const MODE_TONES = { charge: "info", discharge: "violet", idle: "muted" };
const kw = numberFormat({ minimumFractionDigits: 1, maximumFractionDigits: 2 });
const kwh = numberFormat({ maximumFractionDigits: 1 });
const money = numberFormat({ minimumFractionDigits: 2, maximumFractionDigits: 2 });
const priceFormat = numberFormat({ minimumFractionDigits: 3, maximumFractionDigits: 3 });
const MODE_LABELS = { charge: t("charge"), discharge: t("discharge"), idle: t("idle") };
const pct = (part, whole) => (whole > 0 ? `${Math.round((part / whole) * 100)} %` : "—");

function modeBadge(mode, powerKw) {
  const text = mode === "idle" ? MODE_LABELS.idle : `${MODE_LABELS[mode] || mode} ${kw.format(powerKw)} kW`;
  return badge(text, MODE_TONES[mode] || "muted");
}

function level(part, whole, label) {
  const fill = h("span", { class: "level-fill" });
  fill.style.width = `${Math.max(0, Math.min(100, whole > 0 ? (part / whole) * 100 : 0))}%`;
  return h("span", { class: "level", role: "img", "aria-label": `${label}: ${pct(part, whole)}` }, fill);
}

function kpi(label, value, sub, tone = "", extra = null) {
  return h("div", { class: ["kpi", tone && `kpi-${tone}`] }, h("p", { class: "kpi-label" }, label), h("p", { class: "kpi-value" }, value), extra, h("div", { class: "kpi-sub" }, sub));
}

/** One small form posting to an /energy endpoint; 422s appear next to their fields. */
function controlForm({ title, description, fields, submitLabel, path, body, kind = "primary", done }) {
  const errors = h("div", { class: "form-errors", "aria-live": "polite" });
  const submit = button(submitLabel, { kind, type: "submit" });
  const controls = {};
  for (const [key, , control] of fields) controls[key] = control;
  const form = h("form", { class: "op-form", novalidate: false }, h("div", { class: "op-fields" }, fields.map(([, label, control, options]) => field(label, control, options || {}))), errors, h("div", { class: "op-actions" }, submit));
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    errors.replaceChildren();
    showFieldErrors(controls, []);
    await busy(submit, async () => {
      try {
        await post(path, body());
        toast(t("{what}: done.", { what: title }), { title: t("Site updated") });
        if (done) await done();
      } catch (error) {
        if (error.status !== 422) throw error;
        // "battery.power_kw" or "vehicles.0.power_kw": match on the field name.
        const problems = fieldErrors(error).map((p) => {
          const last = p.path.split(".").pop();
          return controls[p.path] ? p : controls[last] ? { ...p, path: last } : p;
        });
        const unplaced = showFieldErrors(controls, problems);
        if (unplaced.length) errors.append(errorBox(error));
      }
    });
  });
  const headingId = uid("card");
  return h("section", { class: "op-card", "aria-labelledby": headingId }, h("h3", { class: "op-title", id: headingId }, title), description ? h("p", { class: "op-description" }, description) : null, form);
}

const number = (props = {}) => h("input", { type: "number", class: "input num-input", step: "any", min: "0", inputmode: "decimal", ...props });
const optionalNumber = (input) => (input.value === "" ? undefined : Number(input.value));

export function energyView() {
  let root = null;
  let status = null;
  let plan = null;
  let planSignature = "";
  let policy = null;
  let config = null;
  const hiddenSeries = new Set();
  const errorSlot = h("div", { class: "error-slot" });
  const kpis = h("div", { class: "kpis energy-kpis" }, h("p", { class: "muted" }, t("Loading…")));
  const policySlot = h("div", { class: "policy-switch" });
  const planMeta = h("div", { class: "plan-meta" });
  const chartSlot = h("div", { class: "plan-chart-slot" }, h("p", { class: "muted" }, t("Loading…")));
  const plansBody = h("tbody");
  const vehicleChoices = [];
  const settings = { config: configEditor({ onSaved: (next) => { config = next; refresh(); } }), tariff: tariffEditor({ onSaved: () => refresh() }) };
  const jobs = deferrableLoadsEditor({ onChanged: () => refresh() });
  let health = null;

  // --- status --------------------------------------------------------------------------
  function vehicleLine(v) {
    return h(
      "li",
      {},
      h("span", { class: "mono strong" }, v.vehicle_id),
      " ",
      v.connected ? badge(t("plugged in"), "ok") : badge("away", "muted"),
      v.connected ? [" ", modeBadge(v.mode, v.setpoint_kw)] : null,
      v.connected && Math.abs(v.power_kw) > 1e-3 ? h("span", { class: "muted small" }, " · ", t("measured {power} kW", { power: kw.format(v.power_kw) })) : null,
      v.bound ? h("span", { class: "muted small", title: t("A real charge point executes the setpoint") }, " · ", t("station-bound")) : null,
      v.connected && v.target_soc_kwh !== null && v.target_soc_kwh !== undefined ? h("span", { class: "muted small" }, " · ", t("target {energy} kWh", { energy: kwh.format(v.target_soc_kwh) })) : null,
      v.connected && v.departure ? h("span", { class: "muted small" }, " · ", t("leaves {time}", { time: formatDateTime(v.departure) })) : null,
    );
  }

  function vehicleKpi(vehicles) {
    if (vehicles.length === 1) {
      const v = vehicles[0];
      return kpi(
        t("Vehicle"),
        v.connected ? pct(v.state_of_charge_kwh, v.capacity_kwh) : t("Not plugged in"),
        h("ul", { class: "vehicle-list" }, vehicleLine(v), v.connected ? h("li", { class: "muted small" }, t("{soc} of {capacity} kWh", { soc: kwh.format(v.state_of_charge_kwh), capacity: kwh.format(v.capacity_kwh) })) : null),
        v.connected && v.mode === "charge" ? "info" : "",
        v.connected ? level(v.state_of_charge_kwh, v.capacity_kwh, t("Vehicle state of charge")) : null,
      );
    }
    return kpi(
      vehicles.length ? t("Vehicles ({count})", { count: vehicles.length }) : t("Vehicle"),
      vehicles.length ? t("{count} plugged in", { count: vehicles.filter((v) => v.connected).length }) : t("None configured"),
      h("ul", { class: "vehicle-list" }, vehicles.map(vehicleLine)),
      vehicles.some((v) => v.connected) ? "info" : "",
    );
  }

  function renderKpis() {
    const site = status;
    const battery = site.battery;
    const load = site.load;
    const totalLoad = load.critical_load_kw + load.flexible_load_kw - load.shed_kw;
    const grid = plan && plan.actions ? plan.actions.grid_kw : null;
    const importPrice = plan && plan.steps && plan.steps.length ? plan.steps[0].import_price : null;
    const peak = config ? config.solar.peak_kw : null;
    const vehicles = site.vehicles.length ? site.vehicles : site.vehicle ? [site.vehicle] : [];
    setChildren(
      kpis,
      kpi(
        t("Solar"),
        `${kw.format(site.solar.production_kw)} kW`,
        [peak ? `${t("of {peak} kW peak", { peak: kw.format(peak) })} · ` : "", site.solar.measured_at ? [t("measured"), " ", timeAgo(site.solar.measured_at)] : t("not measured yet")],
        site.solar.production_kw > 0.05 ? "ok" : "",
        peak ? level(site.solar.production_kw, peak, t("PV output of peak")) : null,
      ),
      kpi(
        t("Home battery"),
        pct(battery.state_of_charge_kwh, battery.capacity_kwh),
        [`${t("{soc} of {capacity} kWh", { soc: kwh.format(battery.state_of_charge_kwh), capacity: kwh.format(battery.capacity_kwh) })} · `, modeBadge(battery.mode, battery.setpoint_kw), Math.abs(battery.power_kw) > 1e-3 ? ` · ${t("measured {power} kW", { power: kw.format(battery.power_kw) })}` : ""],
        battery.mode === "charge" ? "info" : "",
        level(battery.state_of_charge_kwh, battery.capacity_kwh, t("Battery state of charge")),
      ),
      vehicleKpi(vehicles),
      kpi(
        t("House load"),
        `${kw.format(totalLoad)} kW`,
        [t("critical {critical} · flexible {flexible} kW", { critical: kw.format(load.critical_load_kw), flexible: kw.format(load.flexible_load_kw) }), load.shed_kw > 0 ? h("span", { class: "text-warn strong" }, " · ", t("{power} kW shed", { power: kw.format(load.shed_kw) })) : null],
        load.shed_kw > 0 ? "warn" : "",
      ),
      kpi(
        t("Grid now"),
        grid === null ? "—" : grid >= 0 ? `${kw.format(grid)} kW` : `${kw.format(-grid)} kW`,
        [grid === null ? t("no plan yet") : grid > 0.005 ? t("importing") : grid < -0.005 ? t("exporting") : t("balanced"), importPrice !== null ? ` · ${t("import price {price}/kWh", { price: priceFormat.format(importPrice) })}` : "", config ? ` · ${t("limit {power} kW", { power: kw.format(config.grid.import_limit_kw) })}` : ""],
        grid !== null && grid > 0.005 ? "warn" : grid !== null && grid < -0.005 ? "ok" : "",
      ),
    );
  }

  function reasonList(reason) {
    const parts = String(reason || "")
      .split(/;\s+/)
      .map((p) => p.trim())
      .filter(Boolean);
    if (parts.length <= 1) return h("p", { class: "plan-reason" }, reason || "—");
    return h("ul", { class: "plan-reason" }, parts.map((p) => h("li", {}, p)));
  }

  /** How far recent forecasts were off (GET /energy/health): mean absolute error in kW. */
  function forecastFacts() {
    const f = health && health.forecast;
    if (!f) return null;
    const value = (mae) => (mae === null || mae === undefined ? t("not measured yet") : `${kw.format(mae)} kW`);
    const bias = f.pv_bias_day_ahead_kw;
    return [
      h("h3", { class: "plan-why" }, t("Forecast error")),
      h(
        "dl",
        { class: "deflist plan-facts" },
        [
          [t("PV, 1 h ahead"), value(f.pv_mae_hour_ahead_kw)],
          [t("PV, 24 h ahead"), [value(f.pv_mae_day_ahead_kw), bias === null || bias === undefined ? "" : ` · ${bias >= 0 ? t("forecast {power} kW high", { power: kw.format(bias) }) : t("forecast {power} kW low", { power: kw.format(-bias) })}`]],
          [t("Load, 1 h ahead"), value(f.load_mae_hour_ahead_kw)],
          [t("Load, 24 h ahead"), value(f.load_mae_day_ahead_kw)],
        ].map(([term, text]) => h("div", { class: "deflist-row" }, h("dt", {}, term), h("dd", {}, text))),
      ),
      h("p", { class: "muted small" }, t("Mean absolute error of the forecasts over the last 7 days, against what was then measured.")),
    ];
  }

  function renderPlanMeta() {
    const last = plan || (status && status.last_plan);
    if (!last) {
      setChildren(planMeta, h("p", { class: "muted" }, t("No plan yet. Press “Plan now” or wait for the coordinator's next tick.")));
      return;
    }
    setChildren(
      planMeta,
      last.fell_back
        ? h(
            "div",
            { class: "alert alert-warn", role: "status" },
            h("strong", {}, t("Fallback: {requested} → {used}.", { requested: last.requested_policy, used: last.policy }), " "),
            last.fallback_reason || t("The requested policy gave no usable plan."),
          )
        : null,
      h(
        "dl",
        { class: "deflist plan-facts" },
        [
          [t("Planned"), timeAgo(last.created_at)],
          [t("Policy"), last.requested_policy !== last.policy ? t("{used} (asked: {requested})", { used: last.policy, requested: last.requested_policy }) : last.policy],
          [t("Expected cost"), last.expected_cost === null || last.expected_cost === undefined ? "—" : money.format(last.expected_cost)],
          [t("Solved in"), `${kw.format(last.solve_ms)} ms`],
        ].map(([term, value]) => h("div", { class: "deflist-row" }, h("dt", {}, term), h("dd", {}, value))),
      ),
      forecastFacts(),
      h("h3", { class: "plan-why" }, t("Why")),
      reasonList(last.reason),
      last.notes && last.notes.length ? [h("h3", { class: "plan-why" }, t("Notes")), h("ul", { class: "plan-notes" }, last.notes.map((n) => h("li", {}, n)))] : null,
    );
  }

  function renderChart() {
    if (!plan) {
      setChildren(chartSlot, h("p", { class: "muted" }, t("No plan yet.")));
      return;
    }
    setChildren(chartSlot, planChart(plan, { hidden: hiddenSeries, onToggle: (key, hide) => (hide ? hiddenSeries.add(key) : hiddenSeries.delete(key)) }));
  }

  function renderPolicy() {
    if (!policy) return;
    const options = policy.available.map((name) => [name, (POLICY_LABELS[name] || [name])[0], (POLICY_LABELS[name] || [null, name])[1]]);
    const control = segmented("policy", options, policy.policy, {
      label: t("Planning policy"),
      onChange: async (name) => {
        try {
          policy = await put("/energy/policy", { policy: name });
          toast(t("The coordinator now plans with “{policy}”.", { policy: (POLICY_LABELS[name] || [name])[0] }), { title: t("Policy changed") });
          await refresh();
        } catch (error) {
          reportError(error);
          renderPolicy();
        }
      },
    });
    setChildren(policySlot, h("span", { class: "policy-label", "aria-hidden": "true" }, t("Policy")), control);
  }

  // --- manual measurements and setpoints ---------------------------------------------
  function vehicleSelect() {
    const node = select([], "", { class: "input" });
    vehicleChoices.push(node);
    return node;
  }

  function renderVehicleChoices() {
    const ids = status ? status.vehicles.map((v) => v.vehicle_id) : [];
    for (const node of vehicleChoices) {
      const current = node.value;
      const signature = ids.join("|");
      if (node.dataset.signature === signature) continue;
      node.dataset.signature = signature;
      setChildren(node, ids.map((id) => h("option", { value: id, selected: id === current }, id)));
    }
  }

  function controls() {
    const solar = number({ required: true, placeholder: "kW" });
    const socKwh = number({ placeholder: "kWh" });
    const capacityKwh = number({ placeholder: "kWh", min: "0.1" });
    const batteryPower = number({ placeholder: t("kW, + charging"), min: null });
    const batteryMode = select([["charge", t("Charge")], ["discharge", t("Discharge")], ["idle", t("Idle")]], "charge", { class: "input" });
    const batterySetpoint = number({ value: "2" });
    const critical = number({ placeholder: "kW" });
    const flexible = number({ placeholder: "kW" });
    const shed = number({ required: true, value: "0" });
    const vehicleUpdate = vehicleSelect();
    const connected = select([["", t("Unchanged")], ["true", t("Plugged in")], ["false", t("Unplugged")]], "", { class: "input" });
    const vehicleSoc = number({ placeholder: "kWh" });
    const departure = h("input", { type: "datetime-local", class: "input" });
    const target = number({ placeholder: "kWh" });
    const vehicleControl = vehicleSelect();
    const vehicleMode = select([["charge", t("Charge")], ["discharge", t("Discharge (V2G)")], ["idle", t("Idle")]], "charge", { class: "input" });
    const vehiclePower = number({ value: "7.4" });
    const done = () => refresh();
    const manual = t("In force until the coordinator's next plan.");
    return h(
      "div",
      { class: "op-grid" },
      controlForm({ title: t("Solar production"), fields: [["production_kw", t("PV output (kW)"), solar]], submitLabel: t("Update"), path: "/energy/solar/production", body: () => ({ production_kw: Number(solar.value) }), done }),
      controlForm({
        title: t("Loads"),
        description: t("Measured house consumption; flexible loads can be shed."),
        fields: [
          ["critical_load_kw", t("Critical (kW)"), critical],
          ["flexible_load_kw", t("Flexible (kW)"), flexible],
        ],
        submitLabel: t("Update"),
        path: "/energy/load/update",
        body: () => ({ critical_load_kw: optionalNumber(critical), flexible_load_kw: optionalNumber(flexible) }),
        done,
      }),
      controlForm({
        title: t("Battery measurement"),
        fields: [
          ["state_of_charge_kwh", t("State of charge (kWh)"), socKwh],
          ["capacity_kwh", t("Capacity (kWh)"), capacityKwh],
          ["power_kw", t("Power (kW)"), batteryPower, { hint: t("+ charging, − discharging") }],
        ],
        submitLabel: t("Update"),
        path: "/energy/battery/update",
        body: () => ({ state_of_charge_kwh: optionalNumber(socKwh), capacity_kwh: optionalNumber(capacityKwh), power_kw: optionalNumber(batteryPower) }),
        done,
      }),
      controlForm({
        title: t("Battery setpoint"),
        description: manual,
        fields: [
          ["mode", t("Mode"), batteryMode],
          ["power_kw", t("Power (kW)"), batterySetpoint],
        ],
        submitLabel: t("Apply"),
        kind: "",
        path: "/energy/battery/control",
        body: () => ({ mode: batteryMode.value, power_kw: batteryMode.value === "idle" ? 0 : Number(batterySetpoint.value || 0) }),
        done,
      }),
      controlForm({
        title: t("Vehicle measurement"),
        fields: [
          ["vehicle_id", t("Vehicle"), vehicleUpdate],
          ["connected", t("Plug"), connected],
          ["state_of_charge_kwh", t("State of charge (kWh)"), vehicleSoc],
          ["target_soc_kwh", t("Target (kWh)"), target],
          ["departure", t("Departure"), departure],
        ],
        submitLabel: t("Update"),
        path: "/energy/vehicle/update",
        body: () => ({
          vehicle_id: vehicleUpdate.value || undefined,
          connected: connected.value === "" ? undefined : connected.value === "true",
          state_of_charge_kwh: optionalNumber(vehicleSoc),
          target_soc_kwh: optionalNumber(target),
          departure: departure.value ? fromLocalInput(departure.value) : undefined,
        }),
        done,
      }),
      controlForm({
        title: t("Vehicle setpoint"),
        description: `${manual} ${t("A station-bound vehicle gets it as a charging profile.")}`,
        fields: [
          ["vehicle_id", t("Vehicle"), vehicleControl],
          ["mode", t("Mode"), vehicleMode],
          ["power_kw", t("Power (kW)"), vehiclePower],
        ],
        submitLabel: t("Apply"),
        kind: "",
        path: "/energy/vehicle/control",
        body: () => ({ vehicle_id: vehicleControl.value || undefined, mode: vehicleMode.value, power_kw: vehicleMode.value === "idle" ? 0 : Number(vehiclePower.value || 0) }),
        done,
      }),
      controlForm({
        title: t("Load shedding"),
        description: `${t("Switch off this much flexible load.")} ${manual}`,
        fields: [["shed_kw", t("Shed (kW)"), shed]],
        submitLabel: t("Shed"),
        kind: "",
        path: "/energy/load/shed",
        body: () => ({ shed_kw: Number(shed.value) }),
        done,
      }),
    );
  }

  // --- recent plans --------------------------------------------------------------------
  function actionsSummary(actions) {
    if (!actions) return "—";
    return h(
      "div",
      { class: "stack-sm" },
      h("span", {}, t("Battery"), " ", modeBadge(actions.battery.mode, actions.battery.power_kw)),
      (actions.vehicles || []).map((v) => h("span", {}, h("span", { class: "mono" }, v.vehicle_id), " ", modeBadge(v.mode, v.power_kw))),
      actions.load && actions.load.shed_kw > 0 ? h("span", { class: "text-warn" }, t("shed {power} kW", { power: kw.format(actions.load.shed_kw) })) : null,
    );
  }

  async function refreshPlans() {
    try {
      const plans = await get("/energy/plans", { limit: 20 });
      renderRows(
        plansBody,
        plans,
        (p) => p.id ?? p.created_at,
        (p) => {
          const chart = h("div");
          const details = h("details", { class: "plan-details" }, h("summary", { title: p.reason }, truncate(p.reason, 90)), reasonList(p.reason), p.notes && p.notes.length ? h("ul", { class: "plan-notes" }, p.notes.map((n) => h("li", {}, n))) : null, chart);
          details.addEventListener("toggle", () => {
            if (details.open && !chart.childElementCount) chart.append(planChart(p));
          });
          return h(
            "tr",
            {},
            h("td", { class: "nowrap" }, timeAgo(p.created_at)),
            h("td", {}, h("span", { class: "strong" }, p.policy), p.fell_back ? h("div", {}, badge(t("fallback from {policy}", { policy: p.requested_policy }), "warn", { title: p.fallback_reason || "" })) : null),
            h("td", {}, actionsSummary(p.actions)),
            h("td", { class: "num" }, p.actions ? `${kw.format(p.actions.grid_kw)} kW` : "—"),
            h("td", { class: "num" }, p.expected_cost === null || p.expected_cost === undefined ? "—" : money.format(p.expected_cost)),
            h("td", { class: "plan-reason-cell" }, details),
          );
        },
        6,
        t("No plan stored yet."),
      );
    } catch (error) {
      setChildren(plansBody, h("tr", {}, h("td", { colspan: "6" }, errorBox(error))));
    }
  }

  // --- loading -------------------------------------------------------------------------
  async function load() {
    const [nextStatus, nextPolicy, nextPlan, nextHealth] = await Promise.all([
      get("/energy/status"),
      get("/energy/policy"),
      get("/energy/plan").catch((error) => {
        if (error.status === 404) return null;
        throw error;
      }),
      get("/energy/health").catch(() => null),
    ]);
    if (!config) config = await get("/energy/config").catch(() => null);
    if (!root) return;
    errorSlot.replaceChildren();
    status = nextStatus;
    const policyChanged = !policy || JSON.stringify(policy) !== JSON.stringify(nextPolicy);
    policy = nextPolicy;
    plan = nextPlan;
    health = nextHealth;
    renderKpis();
    renderVehicleChoices();
    if (policyChanged && !policySlot.contains(document.activeElement)) renderPolicy();
    const signature = plan ? `${plan.created_at}|${plan.policy}` : "";
    if (signature !== planSignature) {
      planSignature = signature;
      renderPlanMeta();
      renderChart();
    } else {
      renderPlanMeta();
    }
    if (tabset.selected() === "plans") await refreshPlans();
    if (tabset.selected() === "jobs") await jobs.load();
  }

  const refresh = singleFlight(load, (error) => {
    if (root) setChildren(errorSlot, errorBox(error));
  });

  const planNow = button(t("Plan now"), {
    kind: "primary",
    title: t("POST /energy/tick: measure, forecast and plan right away"),
    onClick: () =>
      busy(planNow, async () => {
        const summary = await post("/energy/tick");
        toast(truncate(summary.reason, 160), { title: summary.fell_back ? t("Planned (fallback to {policy})", { policy: summary.policy }) : t("Planned with {policy}", { policy: summary.policy }), tone: summary.fell_back ? "warn" : "ok" });
        await refresh();
      }),
  });

  const tabset = tabs(
    [
      { key: "control", label: t("Measurements & setpoints"), content: controls() },
      { key: "jobs", label: t("Appliance jobs"), content: jobs.node, onShow: () => jobs.load() },
      { key: "config", label: t("Site configuration"), content: settings.config.node, onShow: () => settings.config.load() },
      { key: "tariff", label: t("Tariff"), content: settings.tariff.node, onShow: () => settings.tariff.load() },
      { key: "plans", label: t("Recent plans"), content: table([t("Planned"), t("Policy"), t("Actions"), { label: t("Grid"), class: "num" }, { label: t("Cost"), class: "num" }, t("Reason")], plansBody, { caption: t("Recent plans"), className: "table-compact" }), onShow: () => refreshPlans() },
    ],
    {
      onChange: (key) => {
        const route = parseRoute();
        if (route.name === "energy") history.replaceState(null, "", key === "control" ? "#/energy" : `#/energy?tab=${key}`);
      },
    },
  );

  return {
    title: t("Energy"),
    events: ["plan.changed"],
    mount(container, route) {
      root = h(
        "div",
        { class: "view" },
        h(
          "div",
          { class: "view-header" },
          h("div", {}, h("h1", {}, t("Energy")), h("p", { class: "view-lede" }, t("Solar, home battery, vehicles and house load; the coordinator re-plans every few minutes."))),
          h("div", { class: "view-actions" }, policySlot, planNow),
        ),
        errorSlot,
        kpis,
        h(
          "div",
          { class: "grid-2 energy-grid" },
          panel(t("Plan"), chartSlot, { description: t("The current plan's schedule in 15-minute steps: + import / charge, − export / discharge") }),
          panel(t("Last plan"), planMeta),
        ),
        h("section", { class: "panel", "aria-label": t("Site controls and settings") }, tabset.node),
      );
      container.append(root);
      const tab = route.query.get("tab");
      if (tab) tabset.show(tab, { silent: true });
    },
    update(route) {
      const tab = route.query.get("tab") || "control";
      if (tabset.selected() !== tab) tabset.show(tab, { silent: true });
    },
    refresh,
    unmount() {
      root = null;
    },
  };
}
