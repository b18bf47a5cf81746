// Sites: where stations stand. The list with each site's counts (GET /api/overview, counted
// by the server), a form to create or change a site, and a site's page: its details, its
// stations (the paged list, filtered by site) and its power over time.

import { del, enc, fieldErrors, get, post, put } from "../api.js";
import { stationPowerChart } from "../chart.js";
import { h, renderRows, setChildren } from "../dom.js";
import { formatNumber } from "../format.js";
import { t, tn } from "../i18n.js";
import { hashFor, navigate } from "../router.js";
import * as stations from "../stations.js";
import { badge, busy, button, confirmDialog, dash, definitionList, errorBox, field, onlineBadge, openDialog, panel, registrationBadge, select, showFieldErrors, singleFlight, table, timeAgo, toast } from "../ui.js";

const SITE_STATIONS_PAGE = 100;
const POWER_HOURS = [
  [6, "6 h"],
  [24, "24 h"],
  [72, "72 h"],
  [168, "7 d"],
];

function numberOrNull(value) {
  const text = String(value).trim().replace(",", ".");
  return text === "" ? null : Number(text);
}

/** Create (site null) or change a site; `after(site)` runs once it is saved. */
export function openSiteDialog(site, after) {
  const name = h("input", { class: "input", required: true, maxlength: 100, autocomplete: "off", value: site ? site.name : "" });
  const address = h("input", { class: "input", maxlength: 300, autocomplete: "street-address", value: site ? site.address : "" });
  const coordinate = (value) => h("input", { class: "input", inputmode: "decimal", autocomplete: "off", value: value ?? "" });
  const latitude = coordinate(site && site.latitude);
  const longitude = coordinate(site && site.longitude);
  const grid = h("input", { class: "input", inputmode: "decimal", autocomplete: "off", value: site && site.grid_limit_kw !== null ? site.grid_limit_kw : "" });
  const summary = h("div", { class: "form-errors" });
  const submit = button(site ? t("Save site") : t("Create site"), { kind: "primary", type: "submit" });
  const controls = { name, address, latitude, longitude, grid_limit_kw: grid };
  const form = h(
    "form",
    { class: "form" },
    field(t("Name"), name, { hint: t("Unique, e.g. Depot North") }),
    field(t("Address"), address),
    h("div", { class: "form-grid" }, field(t("Latitude"), latitude, { hint: t("-90 to 90, with longitude") }), field(t("Longitude"), longitude, { hint: t("-180 to 180, with latitude") })),
    field(t("Grid connection limit (kW)"), grid, { hint: site && site.energy_planner ? t("The energy planner keeps the grid import within it; empty: the energy configuration's limit") : t("Optional: the capacity of the site's grid connection") }),
    summary,
    h("div", { class: "form-actions" }, button(t("Cancel"), { onClick: () => handle.close() }), submit),
  );
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const body = {
      name: name.value.trim(),
      address: address.value.trim(),
      latitude: numberOrNull(latitude.value),
      longitude: numberOrNull(longitude.value),
      grid_limit_kw: numberOrNull(grid.value),
    };
    showFieldErrors(controls, [], summary);
    if ((body.latitude === null) !== (body.longitude === null)) {
      const path = body.latitude === null ? "latitude" : "longitude";
      showFieldErrors(controls, [{ path, message: t("Give both latitude and longitude, or neither.") }], summary);
      return;
    }
    submit.disabled = true;
    try {
      const saved = site ? await put(`/api/sites/${enc(site.id)}`, body) : await post("/api/sites", body);
      toast(site ? t("Site {name} saved.", { name: saved.name }) : t("Site {name} created.", { name: saved.name }));
      handle.close();
      after(saved);
    } catch (error) {
      const problems = fieldErrors(error);
      if (problems.length) showFieldErrors(controls, problems, summary);
      else setChildren(summary, errorBox(error));
    } finally {
      submit.disabled = false;
    }
  });
  const handle = openDialog({ title: site ? t("Change site {name}", { name: site.name }) : t("New site"), content: form });
  name.focus();
}

/** "3 of 5 online · 1 faulted": a site's counts in words. */
function countsLine(counts) {
  if (!counts || !counts.stations) return t("No stations");
  return [
    t("{online} of {total} online", { online: formatNumber(counts.online, 0), total: formatNumber(counts.stations, 0) }),
    counts.faulted ? tn(counts.faulted, "{count} faulted", "{count} faulted") : null,
    counts.pending ? tn(counts.pending, "{count} pending", "{count} pending") : null,
  ]
    .filter(Boolean)
    .join(" · ");
}

export function sitesView() {
  let root = null;
  let siteId = null;
  let powerHours = 24;
  const errorSlot = h("div", { class: "error-slot" });
  const body = h("div");

  function listPage(sites, summary) {
    const counts = new Map(summary.sites.map((s) => [s.site_id, s]));
    const tbody = h("tbody");
    renderRows(
      tbody,
      sites.items,
      (s) => s.id,
      (s) =>
        h(
          "tr",
          {},
          h("td", {}, h("a", { href: hashFor("sites", s.id), class: "strong" }, s.name), s.energy_planner ? [" ", badge(t("Energy planner"), "info")] : null),
          h("td", {}, dash(s.address)),
          h("td", { class: "num" }, formatNumber(s.station_count, 0)),
          h("td", {}, countsLine(counts.get(s.id))),
          h("td", { class: "num" }, s.grid_limit_kw !== null ? `${formatNumber(s.grid_limit_kw, 1)} kW` : "—"),
        ),
      5,
      t("No sites yet."),
    );
    const unassigned = counts.get(null);
    return [
      panel(
        t("Sites"),
        table([t("Site"), t("Address"), { label: t("Stations"), class: "num" }, t("Now"), { label: t("Grid limit"), class: "num" }], tbody, { caption: t("Sites") }),
        { actions: button(t("New site"), { kind: "primary", size: "sm", onClick: () => openSiteDialog(null, (site) => navigate("sites", site.id)) }) },
      ),
      unassigned
        ? h(
            "p",
            { class: "muted" },
            h("a", { href: hashFor("charge-points", null, { site: "none" }) }, tn(unassigned.stations, "{count} station has no site →", "{count} stations have no site →")),
          )
        : null,
    ];
  }

  function stationRow(p) {
    return h(
      "tr",
      {},
      h("td", {}, h("a", { href: hashFor("charge-points", p.id), class: "mono strong" }, p.id)),
      h("td", {}, onlineBadge(p.online)),
      h("td", {}, registrationBadge(p.registration_status)),
      h("td", {}, p.boot ? `${p.boot.vendor} · ${p.boot.model}` : h("span", { class: "muted" }, t("No boot yet"))),
      h("td", {}, timeAgo(p.last_heartbeat_at)),
    );
  }

  async function siteChart(slot) {
    try {
      const answer = await get(`/api/sites/${enc(siteId)}/power`, { hours: powerHours });
      if (root) setChildren(slot, stationPowerChart(answer.points));
    } catch (error) {
      if (root) setChildren(slot, errorBox(error));
    }
  }

  function detailPage(site, page, counts) {
    const tbody = h("tbody");
    renderRows(tbody, page.items, (p) => p.id, stationRow, 5, t("No station stands at this site yet. Choose the site in a station's details."));
    const chartSlot = h("div", { class: "chart-slot" }, h("p", { class: "muted loading" }, t("Loading…")));
    const hours = select(POWER_HOURS.map(([value, label]) => [String(value), label]), String(powerHours), { class: "input input-sm", "aria-label": t("Period") });
    hours.addEventListener("change", () => {
      powerHours = Number(hours.value);
      siteChart(chartSlot);
    });
    siteChart(chartSlot);
    const edit = button(t("Change"), { size: "sm", onClick: () => openSiteDialog(site, () => refresh()) });
    const remove = button(t("Delete"), {
      size: "sm",
      kind: "danger",
      onClick: async () => {
        const sure = await confirmDialog({ title: t("Delete site {name}?", { name: site.name }), message: t("Only a site without stations can be deleted."), confirmLabel: t("Delete"), danger: true });
        if (!sure) return;
        await busy(remove, async () => {
          await del(`/api/sites/${enc(site.id)}`);
          toast(t("Site {name} deleted.", { name: site.name }));
          navigate("sites");
        });
      },
    });
    const planner = site.energy_planner
      ? badge(t("Energy planner"), "info")
      : button(t("Plan energy for this site"), {
          size: "sm",
          onClick: (event) =>
            busy(event.currentTarget, async () => {
              await put("/api/sites/energy-planner", { site_id: site.id });
              toast(t("The energy planner plans for {name} now.", { name: site.name }));
              refresh();
            }),
        });
    return [
      h("p", {}, h("a", { href: hashFor("sites") }, t("← All sites"))),
      panel(
        site.name,
        definitionList([
          [t("Address"), dash(site.address)],
          [t("Coordinates"), site.latitude !== null ? `${formatNumber(site.latitude, 5)}, ${formatNumber(site.longitude, 5)}` : "—"],
          [t("Grid connection limit"), site.grid_limit_kw !== null ? `${formatNumber(site.grid_limit_kw, 1)} kW` : "—"],
          [t("Stations"), countsLine(counts)],
          [t("Energy planner"), planner],
        ]),
        { actions: h("div", { class: "button-row" }, edit, remove) },
      ),
      panel(t("Power at this site"), chartSlot, { actions: hours, description: t("The stations' charging added up, per 15 minutes") }),
      panel(
        tn(page.total, "{count} station", "{count} stations"),
        [
          table([t("Charge point"), t("Connection"), t("Registration"), t("Vendor · model"), t("Last heartbeat")], tbody, { caption: t("Stations at this site") }),
          page.total > page.items.length
            ? h("p", { class: "more" }, h("a", { href: hashFor("charge-points", null, { site: site.id }) }, t("All of them in the charge point list →")))
            : null,
        ],
      ),
    ];
  }

  async function load() {
    if (siteId === null) {
      const [sites, summary] = await Promise.all([get("/api/sites", { limit: 500 }), get("/api/overview")]);
      if (root) setChildren(body, listPage(sites, summary));
    } else {
      const [site, page, summary] = await Promise.all([
        get(`/api/sites/${enc(siteId)}`),
        stations.queryStations({ site: String(siteId), limit: SITE_STATIONS_PAGE }),
        get("/api/overview"),
      ]);
      const counts = summary.sites.find((s) => s.site_id === site.id);
      if (root) setChildren(body, detailPage(site, page, counts));
    }
    if (root) errorSlot.replaceChildren();
  }

  const refresh = singleFlight(load, (error) => {
    if (root) setChildren(errorSlot, errorBox(error));
  });

  function idOf(route) {
    const id = Number(route.id);
    return Number.isInteger(id) && id > 0 ? id : null;
  }

  return {
    title: t("Sites"),
    events: ["station."],
    mount(container, route) {
      siteId = idOf(route);
      root = h(
        "div",
        { class: "view" },
        h("div", { class: "view-header" }, h("div", {}, h("h1", {}, t("Sites")), h("p", { class: "view-lede" }, t("Where the stations stand, and how each place is doing.")))),
        errorSlot,
        body,
      );
      container.append(root);
    },
    update(route) {
      const next = idOf(route);
      if (next === siteId) return;
      siteId = next;
      body.replaceChildren();
      refresh();
    },
    refresh,
    unmount() {
      root = null;
    },
  };
}
