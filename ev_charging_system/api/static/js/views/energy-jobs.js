// Appliance jobs (deferrable loads): GET/POST /energy/deferrable-loads and
// DELETE /energy/deferrable-loads/{id}. The planner runs each job when energy is cheapest
// inside its window; the list shows how much each has received so far.

import { t } from "../i18n.js";

import { del, enc, fieldErrors, get, post } from "../api.js";
import { h, renderRows, uid } from "../dom.js";
import { formatDateTime, fromLocalInput, numberFormat, toLocalInput } from "../format.js";
import { badge, busy, button, confirmDialog, errorBox, field, showFieldErrors, table, toast } from "../ui.js";

const kw = numberFormat({ minimumFractionDigits: 1, maximumFractionDigits: 2 });
const kwh = numberFormat({ minimumFractionDigits: 1, maximumFractionDigits: 2 });
const HOUR_MS = 3600 * 1000;

function progressBar(delivered, energy, label) {
  const share = energy > 0 ? Math.max(0, Math.min(1, delivered / energy)) : 0;
  const fill = h("span", { class: "level-fill" });
  fill.style.width = `${share * 100}%`;
  return h("span", { class: "level", role: "img", "aria-label": `${label}: ${Math.round(share * 100)} %` }, fill);
}

function stateBadge(job) {
  if (job.done) return badge(t("done"), "ok");
  if (job.state.power_kw > 0) return badge(t("running {power} kW", { power: kw.format(job.state.power_kw) }), "info");
  if (job.state.started) return badge(t("started"), "info");
  return badge(t("waiting"), "muted");
}

/** The jobs tab: a form to add one and the list with progress; `load()` reads the list. */
export function deferrableLoadsEditor({ onChanged } = {}) {
  const body = h("tbody");
  const listError = h("div", { class: "error-slot" });

  const id = h("input", { type: "text", class: "input", required: true, maxlength: "64", autocomplete: "off", value: "dishwasher" });
  const name = h("input", { type: "text", class: "input", maxlength: "200", autocomplete: "off" });
  const energy = h("input", { type: "number", class: "input num-input", step: "any", min: "0", inputmode: "decimal", required: true, value: "1.5" });
  const power = h("input", { type: "number", class: "input num-input", step: "any", min: "0", inputmode: "decimal", required: true, value: "1" });
  const earliest = h("input", { type: "datetime-local", class: "input", required: true });
  const deadline = h("input", { type: "datetime-local", class: "input", required: true });
  const interruptible = h("input", { type: "checkbox", id: uid("interruptible") });
  const controls = { load_id: id, name, energy_kwh: energy, power_kw: power, earliest_start: earliest, deadline, interruptible };
  const formErrors = h("div", { class: "form-errors", "aria-live": "polite" });
  const submit = button(t("Add job"), { kind: "primary", type: "submit" });

  function resetWindow() {
    const now = Date.now();
    earliest.value = toLocalInput(new Date(now).toISOString());
    deadline.value = toLocalInput(new Date(now + 12 * HOUR_MS).toISOString());
  }
  resetWindow();

  const form = h(
    "form",
    { class: "op-form" },
    h(
      "div",
      { class: "op-fields" },
      field(t("Job id"), id, { hint: t("Letters, digits, . _ -") }),
      field(t("Name"), name, { hint: t("Optional, e.g. Dishwasher, eco programme") }),
      field(t("Energy (kWh)"), energy),
      field(t("Power (kW)"), power),
      field(t("Earliest start"), earliest),
      field(t("Deadline"), deadline, { hint: t("Done by then") }),
      h("div", { class: "field field-wide" }, h("label", { class: "checkbox", for: interruptible.id }, interruptible, t("Interruptible: may pause and resume (water heater, heat-pump buffer)"))),
    ),
    formErrors,
    h("div", { class: "op-actions" }, submit),
  );
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    formErrors.replaceChildren();
    showFieldErrors(controls, []);
    const job = {
      load_id: id.value.trim(),
      name: name.value.trim(),
      energy_kwh: Number(energy.value),
      power_kw: Number(power.value),
      earliest_start: fromLocalInput(earliest.value) || undefined,
      deadline: fromLocalInput(deadline.value) || undefined,
      interruptible: interruptible.checked,
    };
    await busy(submit, async () => {
      try {
        await post("/energy/deferrable-loads", job);
      } catch (error) {
        if (error.status === 422) {
          // "load.energy_kwh", "energy_kwh" or "deferrable.energy_kwh": match on the name.
          const problems = fieldErrors(error).map((p) => {
            const last = p.path.split(".").pop();
            return controls[last] ? { ...p, path: last } : p;
          });
          if (showFieldErrors(controls, problems).length) formErrors.append(errorBox(error));
          return;
        }
        if (error.status === 409) {
          formErrors.append(errorBox(error));
          return;
        }
        throw error;
      }
      toast(t("{id} will run before {deadline}.", { id: job.load_id, deadline: formatDateTime(job.deadline) }), { title: t("Job added") });
      resetWindow();
      await load();
      if (onChanged) await onChanged();
    });
  });

  async function remove(job, control) {
    const sure = await confirmDialog({
      title: t("Remove job {id}?", { id: job.config.load_id }),
      message: job.done ? t("The job is done; it leaves the list.") : t("The planner forgets it; a running appliance is switched off at the next plan."),
      confirmLabel: t("Remove job"),
      danger: !job.done,
    });
    if (!sure) return;
    await busy(control, async () => {
      await del(`/energy/deferrable-loads/${enc(job.config.load_id)}`);
      toast(t("{id} removed.", { id: job.config.load_id }), { title: t("Job removed") });
      await load();
      if (onChanged) await onChanged();
    });
  }

  function row(job) {
    const c = job.config;
    const delivered = job.state.delivered_kwh;
    const progressLabel = t("{delivered} of {energy} kWh", { delivered: kwh.format(delivered), energy: kwh.format(c.energy_kwh) });
    const removeButton = button(t("Remove"), { size: "sm", kind: "danger-outline", "aria-label": t("Remove job {id}", { id: c.load_id }) });
    removeButton.addEventListener("click", () => remove(job, removeButton));
    return h(
      "tr",
      { "data-job": c.load_id },
      h("td", {}, h("span", { class: "mono strong" }, c.load_id), c.name ? h("div", { class: "muted small" }, c.name) : null),
      h("td", { class: "nowrap" }, formatDateTime(c.earliest_start), h("div", { class: "muted small" }, t("by {time}", { time: formatDateTime(c.deadline) }))),
      h("td", { class: "num" }, `${kw.format(c.power_kw)} kW`, h("div", { class: "muted small" }, c.interruptible ? t("interruptible") : t("one run"))),
      h("td", {}, progressBar(delivered, c.energy_kwh, t("Progress of {id}", { id: c.load_id })), h("div", { class: "small" }, progressLabel)),
      h("td", {}, stateBadge(job)),
      h("td", {}, removeButton),
    );
  }

  async function load() {
    try {
      const jobs = await get("/energy/deferrable-loads");
      listError.replaceChildren();
      renderRows(body, jobs, (job) => job.config.load_id, row, 6, t("No appliance job. Add one below."));
    } catch (error) {
      listError.replaceChildren(errorBox(error));
    }
  }

  const headingId = uid("jobs");
  const node = h(
    "div",
    { class: "stack" },
    h("p", { class: "muted" }, t("Appliances the planner runs when energy is cheapest: each gets its energy between its earliest start and its deadline.")),
    listError,
    table([t("Job"), t("Window"), { label: t("Power"), class: "num" }, t("Progress"), t("State"), t("Actions")], body, { caption: t("Appliance jobs"), className: "table-compact" }),
    h("section", { class: "op-card", "aria-labelledby": headingId }, h("h3", { class: "op-title", id: headingId }, t("Add a job")), form),
  );
  return { node, load };
}
