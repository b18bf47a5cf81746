// Energy: the site's live state (PV, home battery, vehicles, loads), the coordinator's
// current plan and why, the policy, manual measurements and setpoints, site configuration,
// tariff and recent plans.

import { fieldErrors, get, post, put } from "../api.js";
import { h, renderRows, setChildren, truncate, uid } from "../dom.js";
import { planChart } from "../energy-chart.js";
import { formatDateTime, fromLocalInput } from "../format.js";
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
  table,
  tabs,
  timeAgo,
  toast,
} from "../ui.js";
import { configEditor, tariffEditor } from "./energy-settings.js";

const POLICY_LABELS = {
  optimize: ["Optimize", "Lowest cost over the horizon (linear program), with a rule-based fallback"],
  pv_surplus: ["PV surplus", "Charge the vehicle and battery from solar surplus only"],
  rule: ["Rule", "The seed's simple rules: no forecast, no prices"],
};
const MODE_TONES = { charge: "info", discharge: "violet", idle: "muted" };
const kw = new Intl.NumberFormat(undefined, { minimumFractionDigits: 1, maximumFractionDigits: 2 });
const kwh = new Intl.NumberFormat(undefined, { maximumFractionDigits: 1 });
const money = new Intl.NumberFormat(undefined, { minimumFractionDigits: 2, maximumFractionDigits: 2 });
const priceFormat = new Intl.NumberFormat(undefined, { minimumFractionDigits: 3, maximumFractionDigits: 3 });
const pct = (part, whole) => (whole > 0 ? `${Math.round((part / whole) * 100)} %` : "—");

function modeBadge(mode, powerKw) {
  const text = mode === "idle" ? "idle" : `${mode} ${kw.format(powerKw)} kW`;
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
        toast(`${title}: done.`, { title: "Site updated" });
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
  let inFlight = null;
  let status = null;
  let plan = null;
  let planSignature = "";
  let policy = null;
  let config = null;
  const hiddenSeries = new Set();
  const errorSlot = h("div", { class: "error-slot" });
  const kpis = h("div", { class: "kpis energy-kpis" }, h("p", { class: "muted" }, "Loading…"));
  const policySlot = h("div", { class: "policy-switch" });
  const planMeta = h("div", { class: "plan-meta" });
  const chartSlot = h("div", { class: "plan-chart-slot" }, h("p", { class: "muted" }, "Loading…"));
  const plansBody = h("tbody");
  const vehicleChoices = [];
  const settings = { config: configEditor({ onSaved: (next) => { config = next; refresh(); } }), tariff: tariffEditor({ onSaved: () => refresh() }) };

  // --- status --------------------------------------------------------------------------
  function vehicleLine(v) {
    return h(
      "li",
      {},
      h("span", { class: "mono strong" }, v.vehicle_id),
      " ",
      v.connected ? badge("plugged in", "ok") : badge("away", "muted"),
      v.connected ? [" ", modeBadge(v.mode, v.setpoint_kw)] : null,
      v.connected && Math.abs(v.power_kw) > 1e-3 ? h("span", { class: "muted small" }, ` · measured ${kw.format(v.power_kw)} kW`) : null,
      v.bound ? h("span", { class: "muted small", title: "A real charge point executes the setpoint" }, " · station-bound") : null,
      v.connected && v.target_soc_kwh !== null && v.target_soc_kwh !== undefined ? h("span", { class: "muted small" }, ` · target ${kwh.format(v.target_soc_kwh)} kWh`) : null,
      v.connected && v.departure ? h("span", { class: "muted small" }, ` · leaves ${formatDateTime(v.departure)}`) : null,
    );
  }

  function vehicleKpi(vehicles) {
    if (vehicles.length === 1) {
      const v = vehicles[0];
      return kpi(
        "Vehicle",
        v.connected ? pct(v.state_of_charge_kwh, v.capacity_kwh) : "Not plugged in",
        h("ul", { class: "vehicle-list" }, vehicleLine(v), v.connected ? h("li", { class: "muted small" }, `${kwh.format(v.state_of_charge_kwh)} of ${kwh.format(v.capacity_kwh)} kWh`) : null),
        v.connected && v.mode === "charge" ? "info" : "",
        v.connected ? level(v.state_of_charge_kwh, v.capacity_kwh, "Vehicle state of charge") : null,
      );
    }
    return kpi(
      vehicles.length ? `Vehicles (${vehicles.length})` : "Vehicle",
      vehicles.length ? `${vehicles.filter((v) => v.connected).length} plugged in` : "None configured",
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
        "Solar",
        `${kw.format(site.solar.production_kw)} kW`,
        [peak ? `of ${kw.format(peak)} kW peak · ` : "", site.solar.measured_at ? ["measured ", timeAgo(site.solar.measured_at)] : "not measured yet"],
        site.solar.production_kw > 0.05 ? "ok" : "",
        peak ? level(site.solar.production_kw, peak, "PV output of peak") : null,
      ),
      kpi(
        "Home battery",
        pct(battery.state_of_charge_kwh, battery.capacity_kwh),
        [`${kwh.format(battery.state_of_charge_kwh)} of ${kwh.format(battery.capacity_kwh)} kWh · `, modeBadge(battery.mode, battery.setpoint_kw), Math.abs(battery.power_kw) > 1e-3 ? ` · measured ${kw.format(battery.power_kw)} kW` : ""],
        battery.mode === "charge" ? "info" : "",
        level(battery.state_of_charge_kwh, battery.capacity_kwh, "Battery state of charge"),
      ),
      vehicleKpi(vehicles),
      kpi(
        "House load",
        `${kw.format(totalLoad)} kW`,
        [`critical ${kw.format(load.critical_load_kw)} · flexible ${kw.format(load.flexible_load_kw)} kW`, load.shed_kw > 0 ? h("span", { class: "text-warn strong" }, ` · ${kw.format(load.shed_kw)} kW shed`) : null],
        load.shed_kw > 0 ? "warn" : "",
      ),
      kpi(
        "Grid now",
        grid === null ? "—" : grid >= 0 ? `${kw.format(grid)} kW` : `${kw.format(-grid)} kW`,
        [grid === null ? "no plan yet" : grid > 0.005 ? "importing" : grid < -0.005 ? "exporting" : "balanced", importPrice !== null ? ` · import price ${priceFormat.format(importPrice)}/kWh` : "", config ? ` · limit ${kw.format(config.grid.import_limit_kw)} kW` : ""],
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

  function renderPlanMeta() {
    const last = plan || (status && status.last_plan);
    if (!last) {
      setChildren(planMeta, h("p", { class: "muted" }, "No plan yet. Press “Plan now” or wait for the coordinator's next tick."));
      return;
    }
    setChildren(
      planMeta,
      last.fell_back
        ? h(
            "div",
            { class: "alert alert-warn", role: "status" },
            h("strong", {}, `Fallback: ${last.requested_policy} → ${last.policy}. `),
            last.fallback_reason || "The requested policy gave no usable plan.",
          )
        : null,
      h(
        "dl",
        { class: "deflist plan-facts" },
        [
          ["Planned", timeAgo(last.created_at)],
          ["Policy", last.requested_policy !== last.policy ? `${last.policy} (asked: ${last.requested_policy})` : last.policy],
          ["Expected cost", last.expected_cost === null || last.expected_cost === undefined ? "—" : money.format(last.expected_cost)],
          ["Solved in", `${kw.format(last.solve_ms)} ms`],
        ].map(([term, value]) => h("div", { class: "deflist-row" }, h("dt", {}, term), h("dd", {}, value))),
      ),
      h("h3", { class: "plan-why" }, "Why"),
      reasonList(last.reason),
      last.notes && last.notes.length ? [h("h3", { class: "plan-why" }, "Notes"), h("ul", { class: "plan-notes" }, last.notes.map((n) => h("li", {}, n)))] : null,
    );
  }

  function renderChart() {
    if (!plan) {
      setChildren(chartSlot, h("p", { class: "muted" }, "No plan yet."));
      return;
    }
    setChildren(chartSlot, planChart(plan, { hidden: hiddenSeries, onToggle: (key, hide) => (hide ? hiddenSeries.add(key) : hiddenSeries.delete(key)) }));
  }

  function renderPolicy() {
    if (!policy) return;
    const options = policy.available.map((name) => [name, (POLICY_LABELS[name] || [name])[0], (POLICY_LABELS[name] || [null, name])[1]]);
    const control = segmented("policy", options, policy.policy, {
      label: "Planning policy",
      onChange: async (name) => {
        try {
          policy = await put("/energy/policy", { policy: name });
          toast(`The coordinator now plans with “${(POLICY_LABELS[name] || [name])[0]}”.`, { title: "Policy changed" });
          await refresh();
        } catch (error) {
          reportError(error);
          renderPolicy();
        }
      },
    });
    setChildren(policySlot, h("span", { class: "policy-label", "aria-hidden": "true" }, "Policy"), control);
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
    const batteryPower = number({ placeholder: "kW, + charging", min: null });
    const batteryMode = select([["charge", "Charge"], ["discharge", "Discharge"], ["idle", "Idle"]], "charge", { class: "input" });
    const batterySetpoint = number({ value: "2" });
    const critical = number({ placeholder: "kW" });
    const flexible = number({ placeholder: "kW" });
    const shed = number({ required: true, value: "0" });
    const vehicleUpdate = vehicleSelect();
    const connected = select([["", "Unchanged"], ["true", "Plugged in"], ["false", "Unplugged"]], "", { class: "input" });
    const vehicleSoc = number({ placeholder: "kWh" });
    const departure = h("input", { type: "datetime-local", class: "input" });
    const target = number({ placeholder: "kWh" });
    const vehicleControl = vehicleSelect();
    const vehicleMode = select([["charge", "Charge"], ["discharge", "Discharge (V2G)"], ["idle", "Idle"]], "charge", { class: "input" });
    const vehiclePower = number({ value: "7.4" });
    const done = () => refresh();
    const manual = "In force until the coordinator's next plan.";
    return h(
      "div",
      { class: "op-grid" },
      controlForm({ title: "Solar production", fields: [["production_kw", "PV output (kW)", solar]], submitLabel: "Update", path: "/energy/solar/production", body: () => ({ production_kw: Number(solar.value) }), done }),
      controlForm({
        title: "Loads",
        description: "Measured house consumption; flexible loads can be shed.",
        fields: [
          ["critical_load_kw", "Critical (kW)", critical],
          ["flexible_load_kw", "Flexible (kW)", flexible],
        ],
        submitLabel: "Update",
        path: "/energy/load/update",
        body: () => ({ critical_load_kw: optionalNumber(critical), flexible_load_kw: optionalNumber(flexible) }),
        done,
      }),
      controlForm({
        title: "Battery measurement",
        fields: [
          ["state_of_charge_kwh", "State of charge (kWh)", socKwh],
          ["capacity_kwh", "Capacity (kWh)", capacityKwh],
          ["power_kw", "Power (kW)", batteryPower, { hint: "+ charging, − discharging" }],
        ],
        submitLabel: "Update",
        path: "/energy/battery/update",
        body: () => ({ state_of_charge_kwh: optionalNumber(socKwh), capacity_kwh: optionalNumber(capacityKwh), power_kw: optionalNumber(batteryPower) }),
        done,
      }),
      controlForm({
        title: "Battery setpoint",
        description: manual,
        fields: [
          ["mode", "Mode", batteryMode],
          ["power_kw", "Power (kW)", batterySetpoint],
        ],
        submitLabel: "Apply",
        kind: "",
        path: "/energy/battery/control",
        body: () => ({ mode: batteryMode.value, power_kw: batteryMode.value === "idle" ? 0 : Number(batterySetpoint.value || 0) }),
        done,
      }),
      controlForm({
        title: "Vehicle measurement",
        fields: [
          ["vehicle_id", "Vehicle", vehicleUpdate],
          ["connected", "Plug", connected],
          ["state_of_charge_kwh", "State of charge (kWh)", vehicleSoc],
          ["target_soc_kwh", "Target (kWh)", target],
          ["departure", "Departure", departure],
        ],
        submitLabel: "Update",
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
        title: "Vehicle setpoint",
        description: `${manual} A station-bound vehicle gets it as a charging profile.`,
        fields: [
          ["vehicle_id", "Vehicle", vehicleControl],
          ["mode", "Mode", vehicleMode],
          ["power_kw", "Power (kW)", vehiclePower],
        ],
        submitLabel: "Apply",
        kind: "",
        path: "/energy/vehicle/control",
        body: () => ({ vehicle_id: vehicleControl.value || undefined, mode: vehicleMode.value, power_kw: vehicleMode.value === "idle" ? 0 : Number(vehiclePower.value || 0) }),
        done,
      }),
      controlForm({
        title: "Load shedding",
        description: `Switch off this much flexible load. ${manual}`,
        fields: [["shed_kw", "Shed (kW)", shed]],
        submitLabel: "Shed",
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
      h("span", {}, "Battery ", modeBadge(actions.battery.mode, actions.battery.power_kw)),
      (actions.vehicles || []).map((v) => h("span", {}, h("span", { class: "mono" }, v.vehicle_id), " ", modeBadge(v.mode, v.power_kw))),
      actions.load && actions.load.shed_kw > 0 ? h("span", { class: "text-warn" }, `shed ${kw.format(actions.load.shed_kw)} kW`) : null,
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
            h("td", {}, h("span", { class: "strong" }, p.policy), p.fell_back ? h("div", {}, badge(`fallback from ${p.requested_policy}`, "warn", { title: p.fallback_reason || "" })) : null),
            h("td", {}, actionsSummary(p.actions)),
            h("td", { class: "num" }, p.actions ? `${kw.format(p.actions.grid_kw)} kW` : "—"),
            h("td", { class: "num" }, p.expected_cost === null || p.expected_cost === undefined ? "—" : money.format(p.expected_cost)),
            h("td", { class: "plan-reason-cell" }, details),
          );
        },
        6,
        "No plan stored yet.",
      );
    } catch (error) {
      setChildren(plansBody, h("tr", {}, h("td", { colspan: "6" }, errorBox(error))));
    }
  }

  // --- loading -------------------------------------------------------------------------
  async function load() {
    const [nextStatus, nextPolicy, nextPlan] = await Promise.all([
      get("/energy/status"),
      get("/energy/policy"),
      get("/energy/plan").catch((error) => {
        if (error.status === 404) return null;
        throw error;
      }),
    ]);
    if (!config) config = await get("/energy/config").catch(() => null);
    if (!root) return;
    errorSlot.replaceChildren();
    status = nextStatus;
    const policyChanged = !policy || JSON.stringify(policy) !== JSON.stringify(nextPolicy);
    policy = nextPolicy;
    plan = nextPlan;
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
  }

  function refresh() {
    if (!inFlight) {
      inFlight = load()
        .catch((error) => {
          if (root) setChildren(errorSlot, errorBox(error));
        })
        .finally(() => {
          inFlight = null;
        });
    }
    return inFlight;
  }

  const planNow = button("Plan now", {
    kind: "primary",
    title: "POST /energy/tick: measure, forecast and plan right away",
    onClick: () =>
      busy(planNow, async () => {
        const summary = await post("/energy/tick");
        toast(truncate(summary.reason, 160), { title: summary.fell_back ? `Planned (fallback to ${summary.policy})` : `Planned with ${summary.policy}`, tone: summary.fell_back ? "warn" : "ok" });
        await refresh();
      }),
  });

  const tabset = tabs(
    [
      { key: "control", label: "Measurements & setpoints", content: controls() },
      { key: "config", label: "Site configuration", content: settings.config.node, onShow: () => settings.config.load() },
      { key: "tariff", label: "Tariff", content: settings.tariff.node, onShow: () => settings.tariff.load() },
      { key: "plans", label: "Recent plans", content: table(["Planned", "Policy", "Actions", { label: "Grid", class: "num" }, { label: "Cost", class: "num" }, "Reason"], plansBody, { caption: "Recent plans", className: "table-compact" }), onShow: () => refreshPlans() },
    ],
    {
      onChange: (key) => {
        const route = parseRoute();
        if (route.name === "energy") history.replaceState(null, "", key === "control" ? "#/energy" : `#/energy?tab=${key}`);
      },
    },
  );

  return {
    title: "Energy",
    mount(container, route) {
      root = h(
        "div",
        { class: "view" },
        h(
          "div",
          { class: "view-header" },
          h("div", {}, h("h1", {}, "Energy"), h("p", { class: "view-lede" }, "Solar, home battery, vehicles and house load; the coordinator re-plans every few minutes.")),
          h("div", { class: "view-actions" }, policySlot, planNow),
        ),
        errorSlot,
        kpis,
        h(
          "div",
          { class: "grid-2 energy-grid" },
          panel("Plan", chartSlot, { description: "The current plan's schedule in 15-minute steps: + import / charge, − export / discharge" }),
          panel("Last plan", planMeta),
        ),
        h("section", { class: "panel", "aria-label": "Site controls and settings" }, tabset.node),
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
