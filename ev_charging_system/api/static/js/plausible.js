// Plausibility of what stations report. A meter that jumps, a clock that is off or a unit
// mix-up produces numbers no charger can deliver (a 23,368 kW "average"); such a value is
// flagged and kept out of totals instead of being shown as a fact.

import { h } from "./dom.js";
import { formatKW, formatKWh } from "./format.js";
import { t } from "./i18n.js";

/** Above the most powerful chargers built (megawatt truck charging peaks at 3.75 MW). */
export const MAX_POWER_W = 4_000_000;
/** More than the largest vehicle battery (electric trucks and buses: about 1 MWh) twice. */
export const MAX_SESSION_ENERGY_WH = 2_000_000;
/** An average over less than this says more about the clocks than about the power. */
export const MIN_AVERAGE_SECONDS = 60;

export const plausiblePower = (w) => w !== null && w !== undefined && Number.isFinite(Number(w)) && Number(w) >= 0 && Number(w) <= MAX_POWER_W;
export const plausibleEnergy = (wh) => wh !== null && wh !== undefined && Number.isFinite(Number(wh)) && Number(wh) >= 0 && Number(wh) <= MAX_SESSION_ENERGY_WH;

function flagged(shown, why) {
  return h(
    "span",
    { class: "implausible", title: why },
    h("span", { class: "badge tone-warn" }, t("implausible")),
    " ",
    h("span", { class: "implausible-value" }, shown),
  );
}

/** Power in W as text, or a warning badge (with the reported value) when it is impossible. */
export function powerCell(w) {
  if (w === null || w === undefined) return "—";
  if (plausiblePower(w)) return formatKW(w);
  return flagged(formatKW(w), t("No charger delivers this power: check the meter and its unit."));
}

/** Energy in Wh as text, or a warning badge when no session can have charged it. */
export function energyCell(wh) {
  if (wh === null || wh === undefined) return "—";
  if (plausibleEnergy(wh)) return formatKWh(wh);
  return flagged(formatKWh(wh), t("No vehicle charges this much in one session: check the meter readings."));
}

/**
 * The average power of a finished session: null when it cannot be told (too short to mean
 * anything, or no energy), flagged when impossible.
 */
export function averagePowerCell(energyWh, startedAt, stoppedAt) {
  const seconds = (new Date(stoppedAt).getTime() - new Date(startedAt).getTime()) / 1000;
  if (energyWh === null || energyWh === undefined || !(seconds > 0)) return "—";
  const watts = (Number(energyWh) / seconds) * 3600;
  if (!plausiblePower(watts)) return powerCell(watts);
  if (seconds < MIN_AVERAGE_SECONDS) {
    return h("span", { class: "muted", title: t("The session lasted less than a minute.") }, t("too short to tell"));
  }
  return formatKW(watts);
}
