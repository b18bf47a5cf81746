// Formatting of times, durations and energy for people: local time zone, and the numbers
// and dates of the dashboard's language (not the browser's, so a page never mixes two).

import { locale, t } from "./i18n.js";

const dateTime = new Intl.DateTimeFormat(locale, {
  year: "numeric",
  month: "short",
  day: "2-digit",
  hour: "2-digit",
  minute: "2-digit",
  second: "2-digit",
});
const timeOnly = new Intl.DateTimeFormat(locale, { hour: "2-digit", minute: "2-digit" });
const timeSeconds = new Intl.DateTimeFormat(locale, {
  hour: "2-digit",
  minute: "2-digit",
  second: "2-digit",
});
const number1 = new Intl.NumberFormat(locale, { maximumFractionDigits: 1 });
const number2 = new Intl.NumberFormat(locale, {
  minimumFractionDigits: 2,
  maximumFractionDigits: 2,
});
const integer = new Intl.NumberFormat(locale, { maximumFractionDigits: 0 });

export function parseTime(iso) {
  if (!iso) return null;
  const date = new Date(iso);
  return Number.isNaN(date.getTime()) ? null : date;
}

export function formatDateTime(iso) {
  const date = parseTime(iso);
  return date ? dateTime.format(date) : "—";
}

export function formatTime(date, withSeconds = false) {
  return (withSeconds ? timeSeconds : timeOnly).format(date);
}

/** Any Intl.DateTimeFormat options, in the dashboard's language. */
export function formatDateWith(date, options) {
  return new Intl.DateTimeFormat(locale, options).format(date);
}

/** A number with `min` to `max` decimals, in the dashboard's language. */
export function formatDecimal(value, max = 2, min = 0) {
  if (value === null || value === undefined || Number.isNaN(Number(value))) return "—";
  return new Intl.NumberFormat(locale, { minimumFractionDigits: min, maximumFractionDigits: max }).format(Number(value));
}

/** An Intl.NumberFormat of the dashboard's language (for modules that format a lot). */
export function numberFormat(options) {
  return new Intl.NumberFormat(locale, options);
}

function span(seconds) {
  if (seconds < 60) return t("{n} s", { n: seconds });
  if (seconds < 3600) return t("{n} min", { n: Math.floor(seconds / 60) });
  if (seconds < 86400) {
    const hours = Math.floor(seconds / 3600);
    const minutes = Math.floor((seconds % 3600) / 60);
    return minutes ? t("{h} h {m} min", { h: hours, m: minutes }) : t("{n} h", { n: hours });
  }
  return t("{n} d", { n: Math.floor(seconds / 86400) });
}

export function relativeTime(iso, now = Date.now()) {
  const date = parseTime(iso);
  if (!date) return t("never");
  const seconds = Math.round((now - date.getTime()) / 1000);
  const abs = Math.abs(seconds);
  if (abs < 5) return t("just now");
  return seconds < 0 ? t("in {time}", { time: span(abs) }) : t("{time} ago", { time: span(abs) });
}

export function formatDuration(ms) {
  if (ms === null || ms === undefined || Number.isNaN(ms) || ms < 0) return "—";
  const total = Math.floor(ms / 1000);
  const hours = Math.floor(total / 3600);
  const minutes = Math.floor((total % 3600) / 60);
  const seconds = total % 60;
  if (hours) return t("{h} h {m} min", { h: hours, m: String(minutes).padStart(2, "0") });
  if (minutes) return t("{m} min {s} s", { m: minutes, s: String(seconds).padStart(2, "0") });
  return t("{n} s", { n: seconds });
}

export function formatKWh(wh) {
  if (wh === null || wh === undefined || Number.isNaN(Number(wh))) return "—";
  const kwh = Number(wh) / 1000;
  return `${Math.abs(kwh) >= 100 ? number1.format(kwh) : number2.format(kwh)} kWh`;
}

export function formatKW(w) {
  if (w === null || w === undefined || Number.isNaN(Number(w))) return "—";
  return `${number1.format(Number(w) / 1000)} kW`;
}

export function formatNumber(value, digits = 1) {
  if (value === null || value === undefined) return "—";
  return digits === 0 ? integer.format(value) : number1.format(value);
}

/** "2024-05-01T10:00:00Z" -> "2024-05-01T12:00" in local time for <input type=datetime-local>. */
export function toLocalInput(iso) {
  const date = parseTime(iso);
  if (!date) return "";
  const pad = (n) => String(n).padStart(2, "0");
  return (
    `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())}` +
    `T${pad(date.getHours())}:${pad(date.getMinutes())}`
  );
}

/** The value of an <input type=datetime-local> (local time) as an ISO instant, or "". */
export function fromLocalInput(value) {
  if (!value) return "";
  const date = new Date(value);
  return Number.isNaN(date.getTime()) ? "" : date.toISOString();
}

export function startOfToday() {
  const date = new Date();
  date.setHours(0, 0, 0, 0);
  return date;
}
