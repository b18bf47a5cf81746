// Editors of the site configuration (GET/PUT /energy/config) and the tariff (GET/PUT
// /energy/tariff). The API validates: its 422 problems are shown next to their fields.

import { t, tn } from "../i18n.js";

import { fieldErrors, get, put } from "../api.js";
import { h, setChildren, uid } from "../dom.js";
import { button, errorBox, field, segmented, showFieldErrors, toast } from "../ui.js";

const SECTIONS = [
  { key: "solar", title: t("Solar"), fields: [["peak_kw", t("Peak power (kW)")]] },
  {
    key: "battery",
    title: t("Home battery"),
    fields: [
      ["capacity_kwh", t("Capacity (kWh)")],
      ["max_charge_kw", t("Max charge (kW)")],
      ["max_discharge_kw", t("Max discharge (kW)")],
      ["round_trip_efficiency", t("Round-trip efficiency"), { hint: "0–1, e.g. 0.9" }],
      ["min_soc", t("Reserve (min SoC)"), { hint: t("Fraction of capacity kept, 0–1") }],
      ["max_soc", t("Max SoC"), { hint: t("Fraction, 0–1") }],
    ],
  },
  {
    key: "grid",
    title: t("Grid connection"),
    fields: [
      ["import_limit_kw", t("Import limit (kW)"), { hint: t("e.g. the main fuse") }],
      ["export_limit_kw", t("Export limit (kW)"), { optional: true, hint: t("Empty: export not limited") }],
    ],
  },
  { key: "load", title: t("Loads"), fields: [["shed_penalty_per_kwh", t("Shedding penalty (per kWh)"), { hint: t("What shedding one kWh costs the occupants") }]] },
];
const SITE_FIELDS = [
  ["timezone", t("Time zone"), { type: "text", hint: t("IANA name, for tariff windows and departures") }],
  ["horizon_hours", t("Planning horizon (h)")],
];
const VEHICLE_FIELDS = [
  ["vehicle_id", t("Vehicle id"), { type: "text" }],
  ["battery_capacity_kwh", t("Battery (kWh)")],
  ["max_charge_kw", t("Max charge (kW)"), { hint: t("Car and station, whichever is lower") }],
  ["min_current_a", t("Min current (A)")],
  ["phases", t("Phases"), { hint: t("1, 2 or 3") }],
  ["voltage_v", t("Voltage (V)")],
  ["charge_efficiency", t("Charge efficiency"), { hint: "0–1" }],
  ["max_discharge_kw", t("Max discharge (kW)"), { hint: t("> 0 only for V2G") }],
  ["target_soc", t("Target SoC"), { hint: t("Ready by departure, 0–1") }],
  ["max_soc", t("Max SoC"), { hint: "0–1" }],
  ["departure_time", t("Usual departure"), { type: "time" }],
  ["charge_point_id", t("Charge point"), { type: "text", optional: true, hint: t("Bind to a real station (with connector)") }],
  ["connector_id", t("Connector"), { optional: true }],
];
const VEHICLE_DEFAULTS = {
  vehicle_id: "ev",
  battery_capacity_kwh: 60,
  max_charge_kw: 11,
  min_current_a: 6,
  phases: 3,
  voltage_v: 230,
  charge_efficiency: 0.9,
  max_discharge_kw: 0,
  target_soc: 0.8,
  max_soc: 1,
  departure_time: "07:00:00",
  charge_point_id: null,
  connector_id: null,
};
const TARIFF_TAGS = ["flat", "time_of_use", "dynamic"];

function control(spec, value) {
  const [, , options = {}] = spec;
  const type = options.type || "number";
  if (type === "time") return h("input", { type: "time", class: "input", value: value ? String(value).slice(0, 5) : "" });
  if (type === "text") return h("input", { type: "text", class: "input mono", value: value ?? "", autocomplete: "off", spellcheck: "false", list: options.list });
  return h("input", { type: "number", class: "input num-input", step: "any", inputmode: "decimal", value: value ?? "", placeholder: options.optional ? "—" : null });
}

function readControl(spec, input) {
  const [, , options = {}] = spec;
  const type = options.type || "number";
  const raw = input.value.trim();
  if (raw === "") return options.optional ? null : type === "text" ? "" : null;
  if (type === "number") return Number(raw);
  if (type === "time") return raw.length === 5 ? `${raw}:00` : raw;
  return raw;
}

function editorShell({ title, description, form, extra }) {
  const headingId = uid("editor");
  return h("section", { class: "editor", "aria-labelledby": headingId }, h("h3", { class: "visually-hidden", id: headingId }, title), description ? h("p", { class: "muted" }, description) : null, form, extra);
}

/** The site configuration form; `onSaved(config)` after a successful PUT. */
export function configEditor({ onSaved } = {}) {
  let loaded = null;
  let plannerSite = null; // GET /api/sites/energy-planner: its grid limit, if set, is the one
  let dirty = false;
  let vehicles = [];
  const summary = h("div", { "aria-live": "polite" });
  const sectionsSlot = h("div", { class: "config-sections" });
  const vehiclesSlot = h("div", { class: "vehicles" });
  const save = button(t("Save configuration"), { kind: "primary", type: "submit" });
  const reload = button(t("Discard changes"), { onClick: () => load(true) });
  const state = h("span", { class: "muted small", "aria-live": "polite" });
  const zones = uid("zones");
  const stationsList = uid("stations");
  const datalists = h(
    "div",
    { hidden: true },
    h("datalist", { id: zones }, (typeof Intl.supportedValuesOf === "function" ? Intl.supportedValuesOf("timeZone") : ["UTC"]).map((z) => h("option", { value: z }))),
    h("datalist", { id: stationsList }),
  );
  const inputs = {}; // "battery.min_soc" -> input, "timezone" -> input
  const form = h(
    "form",
    { class: "form", novalidate: true },
    summary,
    sectionsSlot,
    h("div", { class: "vehicles-head" }, h("h4", { class: "op-subtitle" }, t("Vehicles")), button(t("Add vehicle"), { size: "sm", onClick: () => addVehicle({ ...VEHICLE_DEFAULTS, vehicle_id: `ev${vehicles.length + 1}` }) })),
    vehiclesSlot,
    h("div", { class: "form-actions" }, state, reload, save),
    datalists,
  );
  const jsonArea = h("textarea", { class: "input mono json-input", rows: "16", spellcheck: "false", "aria-label": t("Site configuration as JSON") });
  const jsonErrors = h("div", { "aria-live": "polite" });
  const jsonSave = button(t("Save JSON"), { type: "button" });
  const jsonDetails = h("details", { class: "op-more" }, h("summary", {}, t("Edit as JSON")), h("div", { class: "form" }, jsonArea, jsonErrors, h("div", { class: "form-actions" }, jsonSave)));
  jsonDetails.addEventListener("toggle", () => {
    if (jsonDetails.open) jsonArea.value = JSON.stringify(collect(), null, 2);
  });

  form.addEventListener("input", () => markDirty());
  form.addEventListener("change", () => markDirty());
  function markDirty() {
    dirty = true;
    state.textContent = t("Unsaved changes");
  }

  function fieldset(legend, specs, values, prefix) {
    return h(
      "fieldset",
      { class: "config-group" },
      h("legend", {}, legend),
      h(
        "div",
        { class: "form-grid form-grid-3" },
        specs.map((spec) => {
          const [key, label, options = {}] = spec;
          const input = control(spec, values ? values[key] : null);
          if (key === "timezone") input.setAttribute("list", zones);
          if (key === "charge_point_id") input.setAttribute("list", stationsList);
          inputs[prefix ? `${prefix}.${key}` : key] = input;
          input.dataset.key = key;
          // The planner's site's grid limit, when it has one, is the limit: set on the site.
          const fromSite = prefix === "grid" && key === "import_limit_kw" && plannerSite && plannerSite.grid_limit_kw !== null;
          if (fromSite) input.readOnly = true;
          return field(label, input, { hint: fromSite ? t("The grid connection limit of the site {name}: change it on the Sites page", { name: plannerSite.name }) : options.hint });
        }),
      ),
    );
  }

  function addVehicle(values) {
    const entry = { values: { ...values }, node: null, inputs: {} };
    const remove = button(t("Remove"), { size: "sm", kind: "danger-outline", "aria-label": t("Remove vehicle {id}", { id: values.vehicle_id }) });
    const group = h(
      "fieldset",
      { class: "config-group vehicle-group" },
      h("legend", {}, t("Vehicle"), " ", h("span", { class: "mono" }, values.vehicle_id)),
      h(
        "div",
        { class: "form-grid form-grid-3" },
        VEHICLE_FIELDS.map((spec) => {
          const [key, label, options = {}] = spec;
          const input = control(spec, values[key]);
          if (key === "charge_point_id") input.setAttribute("list", stationsList);
          entry.inputs[key] = input;
          return field(label, input, { hint: options.hint });
        }),
      ),
      h("div", { class: "form-actions" }, remove),
    );
    remove.addEventListener("click", () => {
      vehicles = vehicles.filter((v) => v !== entry);
      group.remove();
      markDirty();
    });
    entry.node = group;
    vehicles.push(entry);
    vehiclesSlot.append(group);
  }

  function render(config) {
    for (const key of Object.keys(inputs)) delete inputs[key];
    setChildren(
      sectionsSlot,
      fieldset(t("Site"), SITE_FIELDS, config, ""),
      SECTIONS.map((section) => fieldset(section.title, section.fields, config[section.key], section.key)),
    );
    vehicles = [];
    vehiclesSlot.replaceChildren();
    for (const vehicle of config.vehicles || []) addVehicle(vehicle);
    dirty = false;
    state.textContent = "";
    summary.replaceChildren();
  }

  /** The form as a full configuration (unknown keys of the loaded one are kept). */
  function collect() {
    const body = JSON.parse(JSON.stringify(loaded || {}));
    for (const spec of SITE_FIELDS) body[spec[0]] = readControl(spec, inputs[spec[0]]);
    for (const section of SECTIONS) {
      body[section.key] = { ...(body[section.key] || {}) };
      for (const spec of section.fields) body[section.key][spec[0]] = readControl(spec, inputs[`${section.key}.${spec[0]}`]);
    }
    body.vehicles = vehicles.map((entry) => {
      const vehicle = { ...entry.values };
      for (const spec of VEHICLE_FIELDS) vehicle[spec[0]] = readControl(spec, entry.inputs[spec[0]]);
      return vehicle;
    });
    return body;
  }

  function controlsByPath() {
    const map = { ...inputs };
    vehicles.forEach((entry, index) => {
      for (const [key, input] of Object.entries(entry.inputs)) map[`vehicles.${index}.${key}`] = input;
    });
    return map;
  }

  async function submit(body, errorsSlot) {
    const controls = controlsByPath();
    showFieldErrors(controls, [], summary);
    jsonErrors.replaceChildren();
    try {
      const saved = await put("/energy/config", body);
      loaded = saved;
      render(saved);
      if (jsonDetails.open) jsonArea.value = JSON.stringify(saved, null, 2);
      toast(t("The coordinator plans with the new site from its next tick."), { title: t("Site configuration saved") });
      if (onSaved) onSaved(saved);
    } catch (error) {
      if (error.status !== 422) {
        setChildren(errorsSlot, errorBox(error));
        return;
      }
      // Paths like "battery.min_soc" or "vehicles.0.phases"; the JSON editor lists them all.
      showFieldErrors(errorsSlot === summary ? controls : {}, fieldErrors(error), errorsSlot);
    }
  }

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    save.disabled = true;
    save.setAttribute("aria-busy", "true");
    try {
      await submit(collect(), summary);
    } finally {
      save.disabled = false;
      save.removeAttribute("aria-busy");
    }
  });
  jsonSave.addEventListener("click", async () => {
    let body;
    try {
      body = JSON.parse(jsonArea.value);
    } catch (error) {
      setChildren(jsonErrors, h("div", { class: "alert alert-error", role: "alert" }, h("strong", { class: "alert-title" }, t("Not valid JSON")), h("p", { class: "alert-detail" }, error.message)));
      return;
    }
    jsonSave.disabled = true;
    try {
      await submit(body, jsonErrors);
    } finally {
      jsonSave.disabled = false;
    }
  });

  async function load(force = false) {
    if (dirty && !force) return;
    try {
      const [config, stations, site] = await Promise.all([get("/energy/config"), get("/api/charge-points", { limit: 500 }).catch(() => ({ items: [] })), get("/api/sites/energy-planner").catch(() => null)]);
      setChildren(datalists.lastChild, stations.items.map((p) => h("option", { value: p.id })));
      plannerSite = site;
      loaded = config;
      render(config);
    } catch (error) {
      setChildren(summary, errorBox(error));
    }
  }

  return {
    node: editorShell({ title: t("Site configuration"), description: t("What the coordinator plans with. Saving replaces the whole configuration; the API checks physical limits."), form, extra: jsonDetails }),
    load,
  };
}

// --- tariff --------------------------------------------------------------------------------

function priceInput(value, label) {
  return h("input", { type: "number", class: "input num-input", step: "any", inputmode: "decimal", value: value ?? "", "aria-label": label });
}

function windowPrice(windows, fallback, minutes) {
  for (const w of windows) {
    const start = toMinutes(w.start);
    const end = toMinutes(w.end);
    if (start === null || end === null) continue;
    const inside = start < end ? minutes >= start && minutes < end : minutes >= start || minutes < end;
    if (inside) return w.import_price;
  }
  return fallback;
}

function toMinutes(value) {
  const match = /^(\d{1,2}):(\d{2})/.exec(String(value || ""));
  return match ? Number(match[1]) * 60 + Number(match[2]) : null;
}

/** The tariff form: flat, time-of-use windows or a dynamic price series. */
export function tariffEditor({ onSaved } = {}) {
  let kind = "flat";
  let dirty = false;
  const summary = h("div", { "aria-live": "polite" });
  const flat = { import_price: priceInput(0.3), feed_in_price: priceInput(0.08) };
  const tou = { default_import_price: priceInput(0.3), feed_in_price: priceInput(0.08), windows: [] };
  const dyn = { fallback_import_price: priceInput(0.3), feed_in_price: priceInput(0.08), points: h("textarea", { class: "input mono json-input", rows: "8", spellcheck: "false", placeholder: "2026-01-01T18:00:00+01:00, 0.42\n2026-01-01T19:00:00+01:00, 0.38, 0.05" }) };
  const windowsBody = h("tbody");
  const preview = h("div", { class: "tou-preview" });
  const kindSlot = h("div");
  const panels = {
    flat: h("div", { class: "form-grid" }, field(t("Import price (per kWh)"), flat.import_price), field(t("Feed-in price (per kWh)"), flat.feed_in_price)),
    time_of_use: h(
      "div",
      { class: "form" },
      h("div", { class: "form-grid" }, field(t("Default import price"), tou.default_import_price, { hint: t("Outside every window") }), field(t("Feed-in price"), tou.feed_in_price)),
      h(
        "div",
        { class: "table-wrap", tabindex: "0" },
        h(
          "table",
          { class: "table table-compact windows-table" },
          h("caption", { class: "visually-hidden" }, t("Price windows")),
          h("thead", {}, h("tr", {}, [t("From"), t("Until"), t("Import price"), ""].map((label) => h("th", { scope: "col" }, label)))),
          windowsBody,
        ),
      ),
      h("div", { class: "button-row" }, button(t("Add window"), { size: "sm", onClick: () => { addWindow({ start: "22:00", end: "06:00", import_price: 0.2 }); markDirty(); } })),
      h("p", { class: "field-hint" }, t("Site-local time. A window whose end is not after its start wraps past midnight (22:00–06:00). The first window containing a time wins.")),
      preview,
    ),
    dynamic: h(
      "div",
      { class: "form" },
      h("div", { class: "form-grid" }, field(t("Fallback import price"), dyn.fallback_import_price, { hint: t("Before the first and after the last known price") }), field(t("Feed-in price"), dyn.feed_in_price)),
      field(t("Prices"), dyn.points, { hint: t("One per line: start (ISO time with offset), import price[, feed-in price]. Each holds until the next; sorted by start.") }),
    ),
  };
  const save = button(t("Save tariff"), { kind: "primary", type: "submit" });
  const state = h("span", { class: "muted small", "aria-live": "polite" });
  const form = h(
    "form",
    { class: "form", novalidate: true },
    summary,
    kindSlot,
    Object.values(panels),
    h("div", { class: "form-actions" }, state, button(t("Discard changes"), { onClick: () => load(true) }), save),
  );
  form.addEventListener("input", () => markDirty());
  function markDirty() {
    dirty = true;
    state.textContent = t("Unsaved changes");
    renderPreview();
  }

  function showKind(next) {
    kind = next;
    for (const [key, node] of Object.entries(panels)) node.hidden = key !== kind;
    setChildren(
      kindSlot,
      segmented("tariff-kind", [["flat", t("Flat")], ["time_of_use", t("Time of use")], ["dynamic", t("Dynamic")]], kind, {
        label: t("Tariff kind"),
        onChange: (value) => {
          showKind(value);
          markDirty();
        },
      }),
    );
  }

  function addWindow(w) {
    const start = h("input", { type: "time", id: uid("window"), class: "input input-sm", value: String(w.start || "").slice(0, 5), "aria-label": t("From") });
    const end = h("input", { type: "time", id: uid("window"), class: "input input-sm", value: String(w.end || "").slice(0, 5), "aria-label": t("Until") });
    const importPrice = priceInput(w.import_price, t("Import price"));
    importPrice.id = uid("window");
    importPrice.classList.add("input-sm");
    const entry = { start, end, import_price: importPrice };
    const remove = button(t("Remove"), { size: "sm", kind: "ghost", "aria-label": t("Remove window") });
    const cell = (input) => h("td", {}, h("div", { class: "field" }, input));
    const row = h("tr", {}, cell(start), cell(end), cell(importPrice), h("td", { class: "actions" }, remove));
    remove.addEventListener("click", () => {
      tou.windows = tou.windows.filter((e) => e !== entry);
      row.remove();
      markDirty();
    });
    entry.row = row;
    tou.windows.push(entry);
    windowsBody.append(row);
    renderPreview();
  }

  function readWindows() {
    return tou.windows.map((e) => ({ start: e.start.value, end: e.end.value, import_price: e.import_price.value === "" ? null : Number(e.import_price.value) }));
  }

  function renderPreview() {
    if (kind !== "time_of_use") return;
    const windows = readWindows();
    const fallback = Number(tou.default_import_price.value);
    const hours = Array.from({ length: 24 }, (_, hour) => windowPrice(windows, fallback, hour * 60 + 30));
    const max = Math.max(...hours.filter((p) => Number.isFinite(p)), 0.001);
    setChildren(
      preview,
      h("p", { class: "field-hint" }, t("Import price over a day")),
      h(
        "div",
        { class: "tou-bars", role: "img", "aria-label": hours.map((p, hour) => `${hour}:00 ${Number.isFinite(p) ? p : "?"}`).join(", ") },
        hours.map((p, hour) => {
          const bar = h("span", { class: "tou-bar", title: `${String(hour).padStart(2, "0")}:00 · ${Number.isFinite(p) ? p : "?"}` });
          bar.style.height = `${Math.max(4, (Number.isFinite(p) ? p / max : 0) * 100)}%`;
          return h("span", { class: "tou-hour" }, bar, hour % 3 === 0 ? h("span", { class: "tou-label" }, String(hour)) : null);
        }),
      ),
    );
  }

  function fill(tariff) {
    showKind(TARIFF_TAGS.includes(tariff.kind) ? tariff.kind : "flat");
    if (tariff.kind === "flat") {
      flat.import_price.value = tariff.import_price;
      flat.feed_in_price.value = tariff.feed_in_price;
    } else if (tariff.kind === "time_of_use") {
      tou.default_import_price.value = tariff.default_import_price;
      tou.feed_in_price.value = tariff.feed_in_price;
    } else if (tariff.kind === "dynamic") {
      dyn.fallback_import_price.value = tariff.fallback_import_price;
      dyn.feed_in_price.value = tariff.feed_in_price;
      dyn.points.value = (tariff.points || []).map((p) => [p.start, p.import_price, p.feed_in_price].filter((v) => v !== null && v !== undefined).join(", ")).join("\n");
    }
    tou.windows = [];
    windowsBody.replaceChildren();
    for (const w of tariff.kind === "time_of_use" ? tariff.windows : [{ start: "22:00", end: "06:00", import_price: 0.2 }]) addWindow(w);
    dirty = false;
    state.textContent = "";
    summary.replaceChildren();
    renderPreview();
  }

  const num = (input) => (input.value === "" ? null : Number(input.value));

  function collect() {
    if (kind === "flat") return { body: { kind, import_price: num(flat.import_price), feed_in_price: num(flat.feed_in_price) }, problems: [] };
    if (kind === "time_of_use") return { body: { kind, default_import_price: num(tou.default_import_price), feed_in_price: num(tou.feed_in_price), windows: readWindows() }, problems: [] };
    const problems = [];
    const points = [];
    dyn.points.value.split("\n").forEach((line, index) => {
      if (!line.trim()) return;
      const [start, importPrice, feedIn] = line.split(",").map((part) => part.trim());
      if (!start || importPrice === undefined || importPrice === "" || Number.isNaN(Number(importPrice))) {
        problems.push({ path: "points", message: t("line {line}: expected “start, import price[, feed-in price]”", { line: index + 1 }) });
        return;
      }
      const point = { start, import_price: Number(importPrice) };
      if (feedIn) point.feed_in_price = Number(feedIn);
      points.push(point);
    });
    return { body: { kind, fallback_import_price: num(dyn.fallback_import_price), feed_in_price: num(dyn.feed_in_price), points }, problems };
  }

  function controlsByPath() {
    const source = kind === "flat" ? flat : kind === "time_of_use" ? tou : dyn;
    const map = {};
    for (const [key, value] of Object.entries(source)) if (value instanceof HTMLElement) map[key] = value;
    if (kind === "time_of_use") {
      tou.windows.forEach((e, i) => {
        map[`windows.${i}.start`] = e.start;
        map[`windows.${i}.end`] = e.end;
        map[`windows.${i}.import_price`] = e.import_price;
      });
    }
    return map;
  }

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const controls = controlsByPath();
    const { body, problems } = collect();
    showFieldErrors(controls, problems, summary);
    if (problems.length) return;
    save.disabled = true;
    save.setAttribute("aria-busy", "true");
    try {
      const saved = await put("/energy/tariff", body);
      fill(saved);
      toast(t("The next plan uses the new prices."), { title: t("Tariff saved") });
      if (onSaved) onSaved(saved);
    } catch (error) {
      if (error.status !== 422) setChildren(summary, errorBox(error));
      else {
        // "points.3.start" is about the textarea: name the line.
        const mapped = fieldErrors(error, TARIFF_TAGS).map((p) => {
          const match = /^points\.(\d+)\.?(.*)$/.exec(p.path);
          return match ? { path: "points", message: `${t("price {n}", { n: Number(match[1]) + 1 })}${match[2] ? ` (${match[2]})` : ""}: ${p.message}` } : p;
        });
        showFieldErrors(controls, mapped, summary);
      }
    } finally {
      save.disabled = false;
      save.removeAttribute("aria-busy");
    }
  });

  async function load(force = false) {
    if (dirty && !force) return;
    try {
      fill(await get("/energy/tariff"));
    } catch (error) {
      setChildren(summary, errorBox(error));
    }
  }

  showKind("flat");
  return {
    node: editorShell({ title: t("Tariff"), description: t("Prices per kWh in the site's currency. The optimizer shifts charging to cheap hours."), form }),
    load,
  };
}
