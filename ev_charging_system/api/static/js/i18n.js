// The dashboard's language: English or Brazilian Portuguese, from the browser's languages
// unless the operator chose one (kept in localStorage). Texts are written in English in the
// code and looked up in the chosen language's catalogue; a missing entry shows the English.
//
// The catalogue is loaded with top-level await, so every module that imports this one can
// call t() even at its top level. Switching the language reloads the page.

const LOCALE_KEY = "ev_charging_system.locale";

/** [code, name in its own language] of every language the dashboard speaks. */
export const LOCALES = [
  ["en", "English"],
  ["pt-BR", "Português"],
];

function stored() {
  try {
    return localStorage.getItem(LOCALE_KEY);
  } catch {
    return null;
  }
}

/** The best supported language for a list of browser languages ("pt-PT" -> "pt-BR"). */
export function bestLocale(languages) {
  for (const language of languages || []) {
    const lower = String(language).toLowerCase();
    if (lower.startsWith("pt")) return "pt-BR";
    if (lower.startsWith("en")) return "en";
  }
  return "en";
}

function choose() {
  const chosen = stored();
  if (LOCALES.some(([code]) => code === chosen)) return chosen;
  return bestLocale(navigator.languages && navigator.languages.length ? navigator.languages : [navigator.language]);
}

export const locale = choose();
const messages = locale === "pt-BR" ? (await import("./locales/pt-BR.js")).default : {};
const plurals = new Intl.PluralRules(locale);
const integers = new Intl.NumberFormat(locale, { maximumFractionDigits: 0 });

document.documentElement.lang = locale;

function fill(template, params) {
  if (!params) return template;
  return template.replace(/\{(\w+)\}/g, (match, name) => (name in params ? String(params[name]) : match));
}

/** `text` (English, with {name} placeholders) in the chosen language, `params` filled in. */
export function t(text, params) {
  const translated = Object.prototype.hasOwnProperty.call(messages, text) ? messages[text] : text;
  return fill(translated, params);
}

/** The singular or plural form for `count` (shown as {count}, formatted for the locale). */
export function tn(count, one, other, params = {}) {
  const form = plurals.select(Number(count)) === "one" ? one : other;
  return t(form, { count: integers.format(Number(count)), ...params });
}

/** Choose a language: remembered in this browser, applied by reloading the page. */
export function setLocale(code) {
  try {
    localStorage.setItem(LOCALE_KEY, code);
  } catch {
    // No storage (private mode): the choice cannot outlive this page.
  }
  location.reload();
}
