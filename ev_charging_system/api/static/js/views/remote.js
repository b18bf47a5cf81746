// Remote operation of one station from its detail drawer: forms for the OCPP commands,
// the station's real answer next to the button that asked, and the log of commands sent.

import { ApiError, enc, get, post } from "../api.js";
import { h, renderRows, setChildren, uid } from "../dom.js";
import { formatDuration, formatNumber } from "../format.js";
import { t, tn } from "../i18n.js";
import { hashFor } from "../router.js";
import {
  badge,
  busy,
  button,
  confirmDialog,
  dash,
  field,
  jsonBlock,
  keyValues,
  plainValue,
  select,
  table,
  timeAgo,
  timeExact,
  toast,
} from "../ui.js";

const STATUS_TONES = {
  Accepted: "ok",
  Unlocked: "ok",
  Scheduled: "info",
  RebootRequired: "warn",
  Rejected: "danger",
  UnlockFailed: "danger",
  OngoingAuthorizedTransaction: "warn",
  UnknownConnector: "warn",
  NotSupported: "warn",
  NotImplemented: "warn",
  Faulted: "danger",
  Failed: "danger",
  UnknownMessageId: "warn",
  UnknownVendorId: "warn",
};
const OUTCOMES = {
  answered: [t("Answered"), "ok"],
  offline: [t("Offline"), "muted"],
  timeout: [t("No answer"), "warn"],
  call_error: ["CALLERROR", "danger"],
  not_supported: [t("Not supported"), "warn"],
  failed: [t("Failed"), "danger"],
};
const TRIGGERS_16 = ["BootNotification", "Heartbeat", "StatusNotification", "MeterValues", "FirmwareStatusNotification", "DiagnosticsStatusNotification"];
const TRIGGERS_201 = ["BootNotification", "Heartbeat", "StatusNotification", "MeterValues", "FirmwareStatusNotification", "TransactionEvent"];
const PAGE_STEP = 50;
const MAX_COMMANDS = 500; // the server's largest page

export const answerTone = (status) => STATUS_TONES[status] || (status && /^Accept|^Unlock/.test(status) ? "ok" : "muted");

export function answerBadge(status) {
  return status ? badge(status, answerTone(status)) : h("span", { class: "muted" }, "—");
}

export function outcomeBadge(outcome) {
  const [label, tone] = OUTCOMES[outcome] || [outcome, "muted"];
  return badge(label, tone, { title: outcome });
}

/** "RemoteStartTransaction" -> "Remote start transaction", for people. */
export function actionLabel(action) {
  const words = String(action).replace(/([a-z0-9])([A-Z])/g, "$1 $2").toLowerCase();
  return words.charAt(0).toUpperCase() + words.slice(1);
}

/** The headline of a failed command's HTTP status, in the operator's terms. */
export function commandTitle(error) {
  switch (error.status) {
    case 409:
      return t("Station offline (409)");
    case 504:
      return t("No answer in time (504)");
    case 502:
      return error.body && error.body.error_code ? t("The station answered with a CALLERROR (502)") : t("The command failed (502)");
    case 422:
      return t("Not possible (422)");
    case 429:
      return t("Too many commands queued (429)");
    default:
      return error.title;
  }
}

/** A failed command as the operator needs to see it: what happened and what to do now. */
export function commandErrorBox(error, what) {
  if (!(error instanceof ApiError)) {
    return h("div", { class: "alert alert-error", role: "alert" }, h("strong", { class: "alert-title" }, t("Something went wrong")), h("p", {}, String(error && error.message ? error.message : error)));
  }
  const body = error.body || {};
  const title = commandTitle(error);
  let hint = error.hint;
  let extra = null;
  switch (error.status) {
    case 409:
      hint = t("Nothing was sent. Repeat the command once the station is connected again.");
      break;
    case 504:
      hint = t("The station may still carry the command out. Check the connector status or the Commands tab before repeating it.");
      break;
    case 502:
      if (body.error_code) {
        extra = h(
          "dl",
          { class: "kv kv-inline" },
          h("div", {}, h("dt", {}, t("Error code")), h("dd", { class: "mono strong" }, body.error_code)),
          h("div", {}, h("dt", {}, t("Description")), h("dd", {}, body.error_description || "—")),
        );
        hint = t("The station understood the request but could not process it.");
      }
      break;
    case 422:
      hint = hint || t("The input is invalid, or the station's OCPP version has no such operation.");
      break;
    case 429:
      hint = t("Wait for the station to answer the earlier commands, then try again.");
      break;
    default:
      break;
  }
  return h(
    "div",
    { class: "alert alert-error", role: "alert" },
    h("strong", { class: "alert-title" }, what ? t("{what}: {title}", { what, title }) : title),
    extra,
    h("p", { class: "alert-detail" }, error.detail),
    hint ? h("p", { class: "alert-hint" }, hint) : null,
  );
}

/** The station's answer: its status, then the data it sent (rendered by `render` if given). */
function answerBox(what, result, render) {
  const data = result.data || {};
  const hasData = Object.keys(data).length > 0;
  const tone = answerTone(result.status);
  return h(
    "div",
    { class: ["answer", `answer-${tone === "ok" ? "ok" : tone === "danger" ? "bad" : "neutral"}`] },
    h("div", { class: "answer-head" }, h("span", { class: "answer-what" }, what), h("span", { class: "muted" }, t("answered")), answerBadge(result.status)),
    render ? render(data, result) : hasData ? keyValues(data) : null,
  );
}

/** Sends a command, shows "waiting", then the answer or the error, in `slot`. */
async function send(ctx, slot, submit, what, name, body, render) {
  setChildren(slot, h("p", { class: "answer-pending", role: "status" }, h("span", { class: "spinner", "aria-hidden": "true" }), t("{what}: waiting for {id}…", { what, id: ctx.id })));
  submit.disabled = true;
  submit.setAttribute("aria-busy", "true");
  try {
    const result = await post(`${ctx.base}/commands/${name}`, body);
    setChildren(slot, answerBox(what, result, render));
    return result;
  } catch (error) {
    setChildren(slot, commandErrorBox(error, what));
    return null;
  } finally {
    submit.disabled = false;
    submit.removeAttribute("aria-busy");
    ctx.changed();
  }
}

function card(title, description, ...content) {
  const headingId = uid("card");
  return h("section", { class: "op-card", "aria-labelledby": headingId }, h("h3", { class: "op-title", id: headingId }, title), description ? h("p", { class: "op-description" }, description) : null, content);
}

function resultSlot() {
  return h("div", { class: "answer-slot", "aria-live": "polite" });
}

function connectorOptions(ctx, { station = false, any = false } = {}) {
  const ids = ctx.connectorIds();
  return [
    ...(any ? [["", t("Station chooses")]] : []),
    ...(station ? [["0", t("Whole station")]] : []),
    ...ids.map((id) => [String(id), ctx.is201() ? t("EVSE {id}", { id }) : t("Connector {id}", { id })]),
  ];
}

function connectorSelect(ctx, options, value) {
  const node = select(connectorOptions(ctx, options), value, { class: "input" });
  node.dataset.connectorOptions = JSON.stringify(options);
  return node;
}

function radios(name, options, value, legend) {
  const group = uid(name);
  return h(
    "fieldset",
    { class: "radios" },
    h("legend", {}, legend),
    options.map(([optionValue, label, hint]) =>
      h("label", { class: "radio", title: hint }, h("input", { type: "radio", name: group, value: optionValue, checked: optionValue === value }), h("span", {}, label)),
    ),
  );
}

const checkedValue = (fieldset) => {
  const input = fieldset.querySelector("input:checked");
  return input ? input.value : "";
};

function scheduleView(data) {
  const schedule = data.schedule || data.charging_schedule || null;
  if (!schedule) return data && Object.keys(data).length ? keyValues(data) : h("p", { class: "muted" }, t("The station has no schedule for this connector."));
  const inner = schedule.charging_schedule && typeof schedule.charging_schedule === "object" ? schedule.charging_schedule : schedule;
  const periods = inner.charging_schedule_period || inner.chargingSchedulePeriod || [];
  const unit = inner.charging_rate_unit || schedule.charging_rate_unit || "";
  const start = data.schedule_start || schedule.schedule_start || inner.start_schedule;
  const duration = inner.duration || schedule.duration;
  const offset = (seconds) => {
    const hours = Math.floor(seconds / 3600);
    const minutes = Math.floor((seconds % 3600) / 60);
    return `+${hours}:${String(minutes).padStart(2, "0")}`;
  };
  const max = Math.max(1, ...periods.map((p) => Number(p.limit) || 0));
  return h(
    "div",
    { class: "stack-sm schedule" },
    h("p", { class: "muted small" }, start ? [t("From"), " ", timeExact(start)] : null, duration ? ` ${t("for {duration}", { duration: formatDuration(duration * 1000) })}` : null, unit ? ` · ${t("limits in {unit}", { unit })}` : null),
    periods.length
      ? table(
          [t("Offset"), { label: t("Limit"), class: "num" }, t("Phases"), ""],
          h(
            "tbody",
            {},
            periods.map((p) => {
              const bar = h("span", { class: "bar-fill" });
              bar.style.width = `${Math.round(((Number(p.limit) || 0) / max) * 100)}%`;
              return h(
                "tr",
                {},
                h("td", { class: "mono" }, offset(p.start_period || 0)),
                h("td", { class: "num" }, `${formatNumber(p.limit)} ${unit}`),
                h("td", {}, dash(p.number_phases)),
                h("td", { class: "bar-cell" }, h("span", { class: "bar", "aria-hidden": "true" }, bar)),
              );
            }),
          ),
          { caption: t("Composite schedule"), className: "table-compact" },
        )
      : h("p", { class: "muted" }, t("No periods.")),
  );
}

/**
 * The "Remote" tab of a station: one card per operation. `ctx` gives the station id, the
 * latest station record and a `changed()` callback (refreshes station and command log).
 */
export function remotePanel(ctx) {
  const notice = h("div", { class: "remote-notice" });
  const selects = [];
  const track = (node) => {
    selects.push(node);
    return node;
  };

  // --- sessions -----------------------------------------------------------------------
  const tagListId = uid("tags");
  const tagList = h("datalist", { id: tagListId });
  const idTag = h("input", { class: "input mono", required: true, maxlength: 36, list: tagListId, autocomplete: "off", spellcheck: "false", placeholder: "RFID-0001" });
  const startConnector = track(connectorSelect(ctx, { any: true }, ""));
  const startSlot = resultSlot();
  const startSubmit = button(t("Start session"), { kind: "primary", type: "submit" });
  const startForm = h("form", { class: "op-form" }, h("div", { class: "op-fields" }, field(t("Id tag"), idTag), field(t("Connector"), startConnector)), h("div", { class: "op-actions" }, startSubmit), tagList);
  startForm.addEventListener("submit", (event) => {
    event.preventDefault();
    const body = { id_tag: idTag.value.trim() };
    if (startConnector.value) body.connector_id = Number(startConnector.value);
    send(ctx, startSlot, startSubmit, t("Remote start"), "remote-start", body).then(() => sessions.follow());
  });

  const sessionsList = h("ul", { class: "session-list" });
  const stopSlot = resultSlot();
  const sessions = {
    signature: "",
    /** After a start or stop the station reports the session a moment later: look again a
     * few times (the event stream, when up, updates the tab as soon as it happens). */
    follow() {
      for (const ms of [1500, 4000, 8000]) setTimeout(() => sessions.refresh(), ms);
    },
    async refresh() {
      let items;
      try {
        items = (await get("/api/transactions", { charge_point_id: ctx.id, active: true, limit: 50 })).items;
      } catch {
        return; // The list is a convenience; the station detail shows its own errors.
      }
      const signature = JSON.stringify(items);
      if (signature === sessions.signature) return;
      sessions.signature = signature;
      if (!items.length) {
        setChildren(sessionsList, h("li", { class: "muted" }, t("No session is running on this station.")));
        return;
      }
      setChildren(
        sessionsList,
        items.map((tx) =>
          h(
            "li",
            { class: "session-item" },
            h(
              "div",
              {},
              h("a", { href: hashFor("transactions", tx.id), class: "strong" }, `#${tx.id}`),
              h("span", { class: "muted" }, " · ", ctx.is201() ? t("EVSE {id}", { id: tx.connector_id }) : t("connector {id}", { id: tx.connector_id }), " · "),
              h("span", { class: "mono" }, tx.id_tag),
              h("div", { class: "cell-sub" }, t("started"), " ", timeAgo(tx.started_at)),
            ),
            stopButton(tx, {
              onAnswer: (result, error) => setChildren(stopSlot, error ? commandErrorBox(error, t("Stop #{id}", { id: tx.id })) : answerBox(t("Remote stop #{id}", { id: tx.id }), result)),
              after: () => {
                ctx.changed();
                sessions.follow();
              },
            }),
          ),
        ),
      );
    },
  };

  // --- reset, availability, unlock -----------------------------------------------------
  const resetType = radios("reset-type", [["Soft", t("Soft"), t("Restart the software, stopping sessions first")], ["Hard", t("Hard"), t("Power-cycle the station")]], "Soft", t("Type (OCPP 1.6)"));
  const resetWhen = radios("reset-when", [["Immediate", t("Immediate"), t("Stop sessions and reset now")], ["OnIdle", t("When idle"), t("Reset once no session is running")]], "Immediate", t("When (OCPP 2.0.1)"));
  const resetSlot = resultSlot();
  const resetSubmit = button(t("Reset…"), { kind: "danger-outline", type: "submit" });
  const resetForm = h("form", { class: "op-form" }, h("div", { class: "op-fields" }, resetType, resetWhen), h("div", { class: "op-actions" }, resetSubmit));
  resetForm.addEventListener("submit", async (event) => {
    event.preventDefault();
    const type = checkedValue(resetType);
    const when = checkedValue(resetWhen);
    const what = ctx.is201() ? (when === "OnIdle" ? t("a reset when idle") : t("an immediate reset")) : type === "Hard" ? t("a hard reset") : t("a soft reset");
    const sure = await confirmDialog({
      title: t("Reset {id}?", { id: ctx.id }),
      message:
        when === "OnIdle" && ctx.is201()
          ? t("This asks for {what}. Running sessions finish first and the station reconnects after rebooting.", { what })
          : t("This asks for {what}. Running sessions are stopped and the station reconnects after rebooting.", { what }),
      confirmLabel: t("Reset station"),
      danger: true,
    });
    if (sure) send(ctx, resetSlot, resetSubmit, t("Reset"), "reset", { type, when });
  });

  const availabilityTarget = track(connectorSelect(ctx, { station: true }, "0"));
  const availabilityState = radios("availability", [["true", t("Operative")], ["false", t("Inoperative")]], "true", t("Set to"));
  const availabilitySlot = resultSlot();
  const availabilitySubmit = button(t("Change availability"), { kind: "primary", type: "submit" });
  const availabilityForm = h("form", { class: "op-form" }, h("div", { class: "op-fields" }, field(t("Target"), availabilityTarget), availabilityState), h("div", { class: "op-actions" }, availabilitySubmit));
  availabilityForm.addEventListener("submit", async (event) => {
    event.preventDefault();
    const operative = checkedValue(availabilityState) === "true";
    const connectorId = Number(availabilityTarget.value);
    const target = connectorId === 0 ? ctx.id : ctx.is201() ? t("EVSE {connector} of {id}", { connector: connectorId, id: ctx.id }) : t("connector {connector} of {id}", { connector: connectorId, id: ctx.id });
    if (!operative) {
      const sure = await confirmDialog({
        title: t("Take {target} out of service?", { target }),
        message: t("Drivers cannot start sessions until it is made operative again. A running session finishes first (the station answers Scheduled)."),
        confirmLabel: t("Make inoperative"),
        danger: true,
      });
      if (!sure) return;
    }
    send(ctx, availabilitySlot, availabilitySubmit, operative ? t("Make operative") : t("Make inoperative"), "change-availability", { operative, connector_id: connectorId });
  });

  const unlockConnector = track(connectorSelect(ctx, {}, "1"));
  const unlockSlot = resultSlot();
  const unlockSubmit = button(t("Unlock…"), { kind: "danger-outline", type: "submit" });
  const unlockForm = h("form", { class: "op-form" }, h("div", { class: "op-fields" }, field(t("Connector"), unlockConnector)), h("div", { class: "op-actions" }, unlockSubmit));
  unlockForm.addEventListener("submit", async (event) => {
    event.preventDefault();
    const sure = await confirmDialog({
      title: t("Unlock connector {connector} of {id}?", { connector: unlockConnector.value, id: ctx.id }),
      message: t("The cable is released. A session running on this connector is stopped first."),
      confirmLabel: t("Unlock connector"),
      danger: true,
    });
    if (sure) send(ctx, unlockSlot, unlockSubmit, t("Unlock connector"), "unlock-connector", { connector_id: Number(unlockConnector.value) });
  });

  // --- smart charging ------------------------------------------------------------------
  const limitConnector = track(connectorSelect(ctx, { station: true }, "0"));
  const limitValue = h("input", { type: "number", class: "input num-input", required: true, min: "0", step: "any", value: "16" });
  const limitUnit = select([["A", "A"], ["W", "W"]], "A", { class: "input unit-select", "aria-label": t("Unit: A (current) or W (power)") });
  limitUnit.addEventListener("change", () => {
    if (limitUnit.value === "W" && Number(limitValue.value) < 100) limitValue.value = "7400";
    if (limitUnit.value === "A" && Number(limitValue.value) >= 100) limitValue.value = "16";
  });
  const profileId = h("input", { type: "number", class: "input num-input", min: "1", step: "1", value: "1", required: true });
  const stackLevel = h("input", { type: "number", class: "input num-input", min: "0", max: "100", step: "1", value: "0", required: true });
  const phases = select([["", t("Station default")], ["1", "1"], ["2", "2"], ["3", "3"]], "", { class: "input" });
  const limitSlot = resultSlot();
  const limitSubmit = button(t("Set limit"), { kind: "primary", type: "submit" });
  const limitForm = h(
    "form",
    { class: "op-form" },
    h("div", { class: "op-fields" }, field(t("Connector"), limitConnector), field(t("Limit"), h("div", { class: "input-group" }, limitValue, limitUnit))),
    h(
      "details",
      { class: "op-more" },
      h("summary", {}, t("Profile details")),
      h("div", { class: "op-fields" }, field(t("Profile id"), profileId, { hint: t("The same id replaces an installed profile") }), field(t("Stack level"), stackLevel), field(t("Phases"), phases)),
    ),
    h("div", { class: "op-actions" }, limitSubmit),
  );
  limitForm.addEventListener("submit", (event) => {
    event.preventDefault();
    const period = { start_period_seconds: 0, limit: Number(limitValue.value) };
    if (phases.value) period.number_phases = Number(phases.value);
    send(ctx, limitSlot, limitSubmit, t("Limit {value} {unit}", { value: formatNumber(Number(limitValue.value)), unit: limitUnit.value }), "set-charging-profile", {
      connector_id: Number(limitConnector.value),
      profile: {
        id: Number(profileId.value),
        stack_level: Number(stackLevel.value),
        purpose: "TxDefaultProfile",
        kind: "Absolute",
        rate_unit: limitUnit.value,
        periods: [period],
      },
    });
  });

  const scheduleConnector = track(connectorSelect(ctx, { station: true }, "1"));
  const scheduleDuration = select([["3600", t("1 hour")], ["21600", t("6 hours")], ["86400", t("24 hours")]], "3600", { class: "input" });
  const scheduleUnit = select([["", t("Station's choice")], ["A", "A"], ["W", "W"]], "", { class: "input" });
  const scheduleSlot = resultSlot();
  const scheduleSubmit = button(t("Read schedule"), { type: "submit" });
  const scheduleForm = h("form", { class: "op-form" }, h("div", { class: "op-fields" }, field(t("Connector"), scheduleConnector), field(t("Duration"), scheduleDuration), field(t("Unit"), scheduleUnit)), h("div", { class: "op-actions" }, scheduleSubmit));
  scheduleForm.addEventListener("submit", (event) => {
    event.preventDefault();
    const body = { connector_id: Number(scheduleConnector.value), duration_seconds: Number(scheduleDuration.value) };
    if (scheduleUnit.value) body.rate_unit = scheduleUnit.value;
    send(ctx, scheduleSlot, scheduleSubmit, t("Composite schedule"), "get-composite-schedule", body, scheduleView);
  });

  // --- messages and cache --------------------------------------------------------------
  const triggerMessage = select([], "", { class: "input" });
  const triggerConnector = track(connectorSelect(ctx, { any: true }, ""));
  triggerConnector.options[0].textContent = t("Not specific");
  const triggerSlot = resultSlot();
  const triggerSubmit = button(t("Trigger"), { type: "submit" });
  const triggerForm = h("form", { class: "op-form" }, h("div", { class: "op-fields" }, field(t("Message"), triggerMessage), field(t("Connector"), triggerConnector)), h("div", { class: "op-actions" }, triggerSubmit));
  triggerForm.addEventListener("submit", (event) => {
    event.preventDefault();
    const body = { message: triggerMessage.value };
    if (triggerConnector.value) body.connector_id = Number(triggerConnector.value);
    send(ctx, triggerSlot, triggerSubmit, t("Trigger {message}", { message: triggerMessage.value }), "trigger-message", body);
  });

  const cacheSlot = resultSlot();
  const cacheSubmit = button(t("Clear cache"), { type: "submit" });
  const cacheForm = h("form", { class: "op-form" }, h("div", { class: "op-actions" }, cacheSubmit));
  cacheForm.addEventListener("submit", (event) => {
    event.preventDefault();
    send(ctx, cacheSlot, cacheSubmit, t("Clear cache"), "clear-cache");
  });

  // --- configuration -------------------------------------------------------------------
  const keys = h("input", { class: "input mono", autocomplete: "off", spellcheck: "false" });
  const configSlot = resultSlot();
  const configSubmit = button(t("Read"), { type: "submit" });
  const configForm = h("form", { class: "op-form op-form-inline" }, field(t("Keys"), keys), h("div", { class: "op-actions" }, configSubmit));
  const readKeys = () =>
    keys.value
      .split(/[\s,]+/)
      .map((k) => k.trim())
      .filter(Boolean);
  configForm.addEventListener("submit", (event) => {
    event.preventDefault();
    send(ctx, configSlot, configSubmit, t("Get configuration"), "get-configuration", { keys: readKeys() }, configView);
  });

  const setKey = h("input", { class: "input mono", required: true, maxlength: 100, autocomplete: "off", spellcheck: "false" });
  const setValue = h("input", { class: "input mono", maxlength: 1000, autocomplete: "off", spellcheck: "false" });
  const setSlot = resultSlot();
  const setSubmit = button(t("Set"), { kind: "primary", type: "submit" });
  const setForm = h("form", { class: "op-form op-form-inline" }, field(t("Key"), setKey), field(t("Value"), setValue), h("div", { class: "op-actions" }, setSubmit));
  setForm.addEventListener("submit", (event) => {
    event.preventDefault();
    send(ctx, setSlot, setSubmit, t("Set {key}", { key: setKey.value.trim() }), "set-configuration", { key: setKey.value.trim(), value: setValue.value });
  });

  function configView(data) {
    const rows = data.configuration || [];
    const unknown = data.unknown_keys || [];
    return h(
      "div",
      { class: "stack-sm config-result" },
      rows.length
        ? table(
            [t("Key"), t("Value"), t("Access"), ""],
            h(
              "tbody",
              {},
              rows.map((row) => configRow(row)),
            ),
            { caption: t("Configuration"), className: "table-compact" },
          )
        : h("p", { class: "muted" }, t("No keys returned.")),
      unknown.length ? h("p", { class: "text-warn small" }, t("Unknown to the station: {keys}", { keys: unknown.join(", ") })) : null,
    );
  }

  function configRow(row) {
    const valueCell = h("td", { class: "mono config-value" }, row.value === null || row.value === undefined ? h("span", { class: "muted" }, "—") : row.value);
    const access = row.readonly === true ? badge(t("read-only"), "muted") : row.readonly === false ? badge(t("read-write"), "teal") : h("span", { class: "muted" }, "—");
    const actions = h("td", { class: "actions" });
    const tr = h("tr", {}, h("td", { class: "mono" }, row.key), valueCell, h("td", {}, access), actions);
    if (row.readonly !== true) {
      actions.append(button(t("Edit"), { size: "sm", "aria-label": t("Edit {key}", { key: row.key }), onClick: () => editConfigValue(ctx, row.key, row.value, valueCell, actions) }));
    }
    return tr;
  }

  const grid = h(
    "div",
    { class: "op-grid" },
    card(t("Start a session"), t("RemoteStartTransaction (2.0.1: RequestStartTransaction) for an id tag."), startForm, startSlot),
    card(
      t("Running sessions"),
      t("Stop a session remotely; the station ends it and reports the meter reading."),
      sessionsList,
      stopSlot,
    ),
    card(t("Charging limit"), t("Installs a TxDefaultProfile: the limit applies to every session on the connector (0: the whole station)."), limitForm, limitSlot),
    card(t("Effective schedule"), t("GetCompositeSchedule: the limits the station will actually apply."), scheduleForm, scheduleSlot),
    card(t("Availability"), t("Make the station or one connector operative or inoperative."), availabilityForm, availabilitySlot),
    card(t("Unlock connector"), t("Release a stuck cable."), unlockForm, unlockSlot),
    card(t("Reset"), null, resetForm, resetSlot),
    card(t("Trigger message"), t("Ask the station to send a message now."), triggerForm, triggerSlot),
    card(t("Authorization cache"), t("Forget the id tags the station cached."), cacheForm, cacheSlot),
    h(
      "section",
      { class: "op-card op-card-wide", "aria-label": t("Configuration") },
      h("h3", { class: "op-title" }, t("Configuration")),
      h("p", { class: "op-description config-help" }),
      configForm,
      configSlot,
      h("h4", { class: "op-subtitle" }, t("Change a key")),
      setForm,
      setSlot,
    ),
  );

  function update(station) {
    const is201 = ctx.is201();
    resetType.hidden = is201;
    resetWhen.hidden = !is201 && Boolean(station && station.ocpp_version);
    const triggers = is201 ? TRIGGERS_201 : station && station.ocpp_version ? TRIGGERS_16 : [...new Set([...TRIGGERS_16, ...TRIGGERS_201])];
    if (triggerMessage.dataset.signature !== triggers.join("|")) {
      triggerMessage.dataset.signature = triggers.join("|");
      const previous = triggerMessage.value || "StatusNotification";
      setChildren(triggerMessage, triggers.map((t) => h("option", { value: t, selected: t === previous }, t)));
    }
    for (const node of selects) {
      const value = node.value;
      const options = connectorOptions(ctx, JSON.parse(node.dataset.connectorOptions));
      const signature = JSON.stringify(options);
      if (node.dataset.signature === signature) continue;
      node.dataset.signature = signature;
      const first = node === triggerConnector ? t("Not specific") : null;
      setChildren(node, options.map(([v, label], i) => h("option", { value: v, selected: v === value }, i === 0 && first && v === "" ? first : label)));
    }
    keys.placeholder = is201 ? "OCPPCommCtrlr.HeartbeatInterval, AuthCtrlr.Enabled" : t("Empty: all keys · or HeartbeatInterval, MeterValueSampleInterval");
    keys.required = is201;
    setKey.placeholder = is201 ? "OCPPCommCtrlr.HeartbeatInterval" : "HeartbeatInterval";
    setChildren(
      grid.querySelector(".config-help"),
      is201
        ? t("GetVariables / SetVariables. Name variables as Component.Variable; the Device model tab lists them all.")
        : t("GetConfiguration / ChangeConfiguration. Leave the keys empty to read every key."),
    );
    const notes = [];
    if (station && !station.online) {
      notes.push(h("p", { class: "alert alert-warn" }, h("strong", {}, t("Station offline."), " "), t("Commands are not queued: they fail with 409 until it reconnects.")));
    }
    if (!ctx.canWrite()) {
      notes.push(h("p", { class: "alert alert-info" }, h("strong", {}, t("Read-only."), " "), t("Set the operator API token (top right) to send commands.")));
    }
    setChildren(notice, notes);
  }

  async function loadTags() {
    try {
      const tags = await get("/api/id-tags", { limit: 500 });
      setChildren(tagList, tags.items.map((t) => h("option", { value: t.id_tag })));
    } catch {
      // Suggestions only.
    }
  }

  let tagsLoaded = false;
  return {
    node: h("div", { class: "remote" }, notice, grid),
    update,
    async refresh() {
      if (!tagsLoaded) {
        tagsLoaded = true;
        loadTags();
      }
      await sessions.refresh();
    },
  };
}

/**
 * Turns a table cell into a small form that sets one configuration key (1.6 key or 2.0.1
 * Component.Variable) and shows the station's answer next to the value.
 */
export function editConfigValue(ctx, key, currentValue, valueCell, actions) {
  const original = [...valueCell.childNodes];
  const originalActions = [...actions.childNodes];
  const input = h("input", { class: "input input-sm mono", value: currentValue ?? "", maxlength: 1000, "aria-label": t("New value of {key}", { key }) });
  const save = button(t("Save"), { size: "sm", kind: "primary", type: "submit" });
  const cancel = button(t("Cancel"), { size: "sm", onClick: () => restore() });
  const status = h("span", { class: "config-status", "aria-live": "polite" });
  const form = h("form", { class: "inline-edit" }, input, save, cancel, status);
  const restore = () => {
    valueCell.replaceChildren(...original);
    actions.replaceChildren(...originalActions);
  };
  input.addEventListener("keydown", (event) => {
    if (event.key === "Escape") {
      event.preventDefault();
      event.stopPropagation();
      restore();
    }
  });
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    save.disabled = true;
    save.setAttribute("aria-busy", "true");
    status.replaceChildren();
    try {
      const result = await post(`${ctx.base}/commands/set-configuration`, { key, value: input.value });
      if (result.status === "Accepted" || result.status === "RebootRequired") {
        original.splice(0, original.length, document.createTextNode(input.value), " ", answerBadge(result.status));
        restore();
        toast(`${key} = ${input.value}`, {
          title: result.status === "RebootRequired" ? t("Set: the station needs a reboot") : t("Configuration changed"),
          tone: result.status === "RebootRequired" ? "warn" : "ok",
        });
      } else {
        setChildren(status, answerBadge(result.status));
      }
    } catch (error) {
      const code = error instanceof ApiError && error.body && error.body.error_code ? `${error.body.error_code}: ` : "";
      setChildren(status, h("span", { class: "text-danger small", role: "alert" }, error instanceof ApiError ? `${error.title}. ${code}${error.detail}` : String(error)));
    } finally {
      save.disabled = false;
      save.removeAttribute("aria-busy");
      ctx.changed();
    }
  });
  valueCell.replaceChildren(form);
  actions.replaceChildren();
  input.focus();
  input.select();
}

/**
 * A "Stop" button for a running session (asks first). `onAnswer(result, error)` shows the
 * station's answer (default: a toast); `after()` runs once it is known either way.
 */
export function stopButton(transaction, { onAnswer, after, size = "sm" } = {}) {
  const node = button(t("Stop"), {
    kind: "danger-outline",
    size,
    "aria-label": t("Stop session {id}", { id: transaction.id }),
    onClick: async (event) => {
      event.stopPropagation();
      const sure = await confirmDialog({
        title: t("Stop session #{id}?", { id: transaction.id }),
        message: t("{station} connector {connector} ({tag}) stops charging; the driver has to start a new session to continue.", { station: transaction.charge_point_id, connector: transaction.connector_id, tag: transaction.id_tag }),
        confirmLabel: t("Stop session"),
        danger: true,
      });
      if (!sure) return;
      node.disabled = true;
      node.setAttribute("aria-busy", "true");
      let result = null;
      let failure = null;
      try {
        result = await post(`/api/charge-points/${enc(transaction.charge_point_id)}/commands/remote-stop`, { transaction_id: transaction.id });
      } catch (error) {
        failure = error;
      } finally {
        node.disabled = false;
        node.removeAttribute("aria-busy");
      }
      if (onAnswer) onAnswer(result, failure);
      else if (result) {
        toast(t("The station answered {status}.", { status: result.status }), { title: t("Stop session #{id}", { id: transaction.id }), tone: answerTone(result.status) === "ok" ? "ok" : "warn" });
      } else {
        const body = failure instanceof ApiError && failure.body ? failure.body : {};
        const code = body.error_code ? `\n${body.error_code}: ${body.error_description || ""}` : "";
        const title = failure instanceof ApiError ? commandTitle(failure) : t("Something went wrong");
        toast(`${failure && failure.detail ? failure.detail : failure}${code}`, { title: t("Stop #{id}: {title}", { id: transaction.id, title }), tone: "error", timeout: 12000 });
      }
      if (after) after();
    },
  });
  return node;
}

/** The "Commands" tab: every command sent to the station, newest first. */
export function commandLog(ctx) {
  const tbody = h("tbody");
  const more = h("div", { class: "more" });
  const errorArea = h("div");
  const outcome = select([["", t("All outcomes")], ...Object.entries(OUTCOMES).map(([k, [label]]) => [k, label])], "", { class: "input input-sm", "aria-label": t("Outcome") });
  const count = h("span", { class: "muted small", "aria-live": "polite" });
  let limit = PAGE_STEP;
  let total = 0;
  let records = [];
  outcome.addEventListener("change", () => render());

  function duration(record) {
    const ms = new Date(record.completed_at).getTime() - new Date(record.requested_at).getTime();
    if (!(ms >= 0)) return "—";
    return ms < 1000 ? `${ms} ms` : `${formatNumber(ms / 1000)} s`;
  }

  function answerCell(record) {
    if (record.outcome === "call_error") {
      return h("div", {}, h("span", { class: "mono strong text-danger" }, record.error_code || "CALLERROR"), record.error_description ? h("div", { class: "cell-sub" }, record.error_description) : null);
    }
    if (record.outcome !== "answered") return h("span", { class: "muted small" }, record.error_description || "—");
    const data = record.response || {};
    const keys = Object.keys(data);
    return h(
      "div",
      {},
      answerBadge(record.status),
      keys.length ? h("div", { class: "cell-sub", title: JSON.stringify(data).slice(0, 2000) }, plainValue(data).slice(0, 80)) : null,
    );
  }

  function render() {
    const shown = outcome.value ? records.filter((r) => r.outcome === outcome.value) : records;
    count.textContent = outcome.value ? tn(records.length, "{shown} of {count} command", "{shown} of {count} commands", { shown: formatNumber(shown.length, 0) }) : tn(shown.length, "{count} command", "{count} commands");
    renderRows(
      tbody,
      shown,
      (r) => r.id ?? `${r.requested_at}|${r.action}`,
      (r) => {
        const details = h(
          "details",
          { class: "cmd-details" },
          h("summary", {}, h("span", { class: "strong" }, actionLabel(r.action))),
          h("div", { class: "cmd-payloads" }, h("div", {}, h("h4", {}, t("Parameters")), jsonBlock(r.parameters, t("Parameters"))), h("div", {}, h("h4", {}, t("Answer")), jsonBlock(r.outcome === "answered" ? r.response : { error_code: r.error_code, error_description: r.error_description }, t("Answer")))),
        );
        return h(
          "tr",
          {},
          h("td", { class: "nowrap" }, timeExact(r.requested_at)),
          h("td", {}, details, Object.keys(r.parameters || {}).length ? h("div", { class: "cell-sub" }, plainValue(r.parameters).slice(0, 90)) : null),
          h("td", { class: "mono small" }, r.requested_by),
          h("td", {}, outcomeBadge(r.outcome), h("div", { class: "cell-sub" }, duration(r))),
          h("td", {}, answerCell(r)),
        );
      },
      5,
      records.length ? t("No command with this outcome.") : t("No command was sent to this station yet."),
    );
    setChildren(more, records.length < total && limit < MAX_COMMANDS ? button(t("Show older"), { size: "sm", onClick: () => { limit = Math.min(MAX_COMMANDS, limit + PAGE_STEP); refresh(); } }) : null);
  }

  async function refresh() {
    try {
      const page = await get(`${ctx.base}/commands`, { limit });
      records = page.items;
      total = page.total;
      errorArea.replaceChildren();
      render();
    } catch (error) {
      setChildren(errorArea, commandErrorBox(error));
    }
  }

  return {
    node: h(
      "div",
      {},
      errorArea,
      h("div", { class: "toolbar" }, outcome, count),
      table([t("Requested"), t("Command"), t("By"), t("Outcome"), t("Answer")], tbody, { caption: t("Commands sent to the station"), className: "table-compact" }),
      more,
    ),
    refresh,
  };
}
