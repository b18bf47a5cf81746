// Formatting of times, durations and energy for people (local time zone, browser locale).

const dateTime = new Intl.DateTimeFormat(undefined, {
  year: "numeric",
  month: "short",
  day: "2-digit",
  hour: "2-digit",
  minute: "2-digit",
  second: "2-digit",
});
const timeOnly = new Intl.DateTimeFormat(undefined, { hour: "2-digit", minute: "2-digit" });
const timeSeconds = new Intl.DateTimeFormat(undefined, {
  hour: "2-digit",
  minute: "2-digit",
  second: "2-digit",
});
const number1 = new Intl.NumberFormat(undefined, { maximumFractionDigits: 1 });
const number2 = new Intl.NumberFormat(undefined, {
  minimumFractionDigits: 2,
  maximumFractionDigits: 2,
});
const integer = new Intl.NumberFormat(undefined, { maximumFractionDigits: 0 });

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

export function relativeTime(iso, now = Date.now()) {
  const date = parseTime(iso);
  if (!date) return "never";
  const seconds = Math.round((now - date.getTime()) / 1000);
  const future = seconds < 0;
  const abs = Math.abs(seconds);
  let text;
  if (abs < 5) return "just now";
  if (abs < 60) text = `${abs} s`;
  else if (abs < 3600) text = `${Math.floor(abs / 60)} min`;
  else if (abs < 86400) {
    const hours = Math.floor(abs / 3600);
    const minutes = Math.floor((abs % 3600) / 60);
    text = minutes ? `${hours} h ${minutes} min` : `${hours} h`;
  } else {
    const days = Math.floor(abs / 86400);
    text = `${days} d`;
  }
  return future ? `in ${text}` : `${text} ago`;
}

export function formatDuration(ms) {
  if (ms === null || ms === undefined || Number.isNaN(ms) || ms < 0) return "—";
  const total = Math.floor(ms / 1000);
  const hours = Math.floor(total / 3600);
  const minutes = Math.floor((total % 3600) / 60);
  const seconds = total % 60;
  if (hours) return `${hours} h ${String(minutes).padStart(2, "0")} min`;
  if (minutes) return `${minutes} min ${String(seconds).padStart(2, "0")} s`;
  return `${seconds} s`;
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
