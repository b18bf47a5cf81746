// Id tags: who may charge. Paginated list, create, edit, delete.

import { t, tn } from "../i18n.js";

import { del, enc, get, patch, post } from "../api.js";
import { h, renderRows, setChildren, uid } from "../dom.js";
import { fromLocalInput, toLocalInput } from "../format.js";
import { hashFor, navigate } from "../router.js";
import {
  badge,
  busy,
  button,
  confirmDialog,
  dash,
  errorBox,
  field,
  openDialog,
  pagination,
  select,
  table,
  statusLabel,
  tagStatusBadge,
  timeAgo,
  timeExact,
  toast,
} from "../ui.js";

const DEFAULT_LIMIT = 50;
const STATUSES = ["Accepted", "Blocked", "Expired", "Invalid"];

function pageOf(query) {
  const limit = Number(query.get("limit"));
  const offset = Number(query.get("offset"));
  return {
    limit: Number.isInteger(limit) && limit >= 1 && limit <= 500 ? limit : DEFAULT_LIMIT,
    offset: Number.isInteger(offset) && offset >= 0 ? offset : 0,
  };
}

function isPast(iso) {
  return Boolean(iso) && new Date(iso).getTime() < Date.now();
}

export function idTagsView() {
  let root = null;
  let page = pageOf(new URLSearchParams());
  let generation = 0;
  let inFlight = null;
  let inFlightGeneration = -1;
  const tbody = h("tbody");
  const errorSlot = h("div", { class: "error-slot" });
  const pager = h("div");
  const summary = h("p", { class: "view-lede" }, t("Loading…"));
  const parentsId = uid("parents");
  const parents = h("datalist", { id: parentsId });

  function pageQuery(next) {
    return {
      limit: next.limit === DEFAULT_LIMIT ? null : next.limit,
      offset: next.offset || null,
    };
  }

  function render(result) {
    renderRows(
      tbody,
      result.items,
      (item) => item.id_tag,
      (item) => {
        const edit = button(t("Edit"), { size: "sm", "aria-label": t("Edit {tag}", { tag: item.id_tag }), onClick: () => openForm(item) });
        const remove = button(t("Delete"), { size: "sm", kind: "danger-outline", "aria-label": t("Delete {tag}", { tag: item.id_tag }) });
        remove.addEventListener("click", async () => {
          const sure = await confirmDialog({
            title: t("Delete id tag {tag}?", { tag: item.id_tag }),
            message: t("Stations will no longer accept it (cached local lists may still do until they update). Past transactions keep the tag value."),
            confirmLabel: t("Delete id tag"),
            danger: true,
          });
          if (!sure) return;
          await busy(remove, async () => {
            await del(`/api/id-tags/${enc(item.id_tag)}`);
            toast(t("{tag} was deleted.", { tag: item.id_tag }), { title: t("Id tag deleted"), tone: "warn" });
            await refresh();
          });
        });
        const expired = isPast(item.expiry_date);
        return h(
          "tr",
          {},
          h("td", { class: "mono strong" }, item.id_tag),
          h("td", {}, dash(item.name)),
          h("td", {}, tagStatusBadge(item.status), expired && item.status === "Accepted" ? h("div", {}, badge(t("Expiry passed"), "warn")) : null),
          h("td", { class: expired ? "text-warn" : "" }, item.expiry_date ? timeExact(item.expiry_date) : h("span", { class: "muted" }, t("Never"))),
          h("td", { class: "mono" }, dash(item.parent_id_tag)),
          h("td", { class: "num" }, String(item.max_active_transactions)),
          h("td", {}, timeAgo(item.created_at)),
          h(
            "td",
            { class: "actions" },
            h(
              "div",
              { class: "button-row" },
              h("a", { class: "btn btn-sm btn-ghost", href: hashFor("transactions", null, { id_tag: item.id_tag }), "aria-label": t("Sessions of {tag}", { tag: item.id_tag }) }, t("Sessions")),
              edit,
              remove,
            ),
          ),
        );
      },
      8,
      t("No id tags yet. Create one to let drivers charge."),
    );
    summary.textContent = tn(result.total, "{count} id tag", "{count} id tags");
    setChildren(
      pager,
      pagination({
        total: result.total,
        limit: page.limit,
        offset: page.offset,
        sizes: [25, 50, 100, 200, 500],
        onChange: (next) => navigate("id-tags", null, pageQuery(next)),
      }),
    );
    setChildren(parents, result.items.map((item) => h("option", { value: item.id_tag })));
  }

  async function load(current) {
    const result = await get("/api/id-tags", { limit: page.limit, offset: page.offset });
    if (!root || current !== generation) return;
    errorSlot.replaceChildren();
    if (result.items.length === 0 && result.total > 0 && page.offset > 0) {
      const last = Math.max(0, Math.floor((result.total - 1) / page.limit) * page.limit);
      navigate("id-tags", null, pageQuery({ limit: page.limit, offset: last }), { replace: true });
      return;
    }
    render(result);
  }

  function refresh() {
    if (!inFlight || inFlightGeneration !== generation) {
      const current = generation;
      inFlightGeneration = current;
      const promise = load(current)
        .catch((error) => {
          if (root && current === generation) setChildren(errorSlot, errorBox(error));
        })
        .finally(() => {
          if (inFlight === promise) inFlight = null;
        });
      inFlight = promise;
    }
    return inFlight;
  }

  function openForm(tag = null) {
    const editing = tag !== null;
    const idInput = h("input", { class: "input mono", required: true, maxlength: 20, autocomplete: "off", spellcheck: "false", placeholder: t("e.g. {example}", { example: "RFID-0001" }) });
    const name = h("input", { class: "input", maxlength: 255, autocomplete: "off", value: editing ? tag.name || "" : "" });
    const status = select(STATUSES.map((s) => [s, statusLabel(s)]), editing ? tag.status : "Accepted", { class: "input" });
    const expiry = h("input", { type: "datetime-local", class: "input", value: editing ? toLocalInput(tag.expiry_date) : "" });
    const parent = h("input", { class: "input mono", maxlength: 20, list: parentsId, autocomplete: "off", spellcheck: "false", value: editing ? tag.parent_id_tag || "" : "" });
    const maxActive = h("input", { type: "number", class: "input", min: 1, max: 100, step: 1, required: true, value: editing ? tag.max_active_transactions : 1 });
    const errors = h("div", { class: "form-errors" });
    const submit = button(editing ? t("Save changes") : t("Create id tag"), { kind: "primary", type: "submit" });
    const form = h(
      "form",
      { class: "form form-grid" },
      editing ? null : field(t("Id tag"), idInput, { hint: t("The RFID UID or token value, up to 20 characters") }),
      field(t("Name"), name, { hint: t("Driver or card holder (optional)") }),
      field(t("Status"), status),
      field(t("Expiry"), expiry, { hint: t("Local time; leave empty for no expiry") }),
      field(t("Parent id tag"), parent, { hint: t("Group tag; empty for none") }),
      field(t("Max. concurrent sessions"), maxActive),
      h("div", { class: "field-wide" }, errors),
      h("div", { class: "form-actions field-wide" }, button(t("Cancel"), { onClick: () => handle.close() }), submit),
    );
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      errors.replaceChildren();
      const body = {};
      const expiryIso = fromLocalInput(expiry.value);
      if (editing) {
        if (status.value !== tag.status) body.status = status.value;
        if (name.value.trim() !== (tag.name || "")) body.name = name.value.trim();
        if (expiry.value !== toLocalInput(tag.expiry_date)) body.expiry_date = expiryIso || null;
        if (parent.value.trim() !== (tag.parent_id_tag || "")) body.parent_id_tag = parent.value.trim() || null;
        if (Number(maxActive.value) !== tag.max_active_transactions) body.max_active_transactions = Number(maxActive.value);
        if (!Object.keys(body).length) {
          handle.close();
          toast(t("Nothing was changed."), { title: tag.id_tag, tone: "muted" });
          return;
        }
      } else {
        body.id_tag = idInput.value.trim();
        body.status = status.value;
        if (name.value.trim()) body.name = name.value.trim();
        if (expiryIso) body.expiry_date = expiryIso;
        if (parent.value.trim()) body.parent_id_tag = parent.value.trim();
        body.max_active_transactions = Number(maxActive.value);
      }
      submit.disabled = true;
      try {
        const saved = editing ? await patch(`/api/id-tags/${enc(tag.id_tag)}`, body) : await post("/api/id-tags", body);
        toast(editing ? t("Changes saved.") : t("Drivers can charge with it now."), { title: editing ? t("Id tag {tag} updated", { tag: saved.id_tag }) : t("Id tag {tag} created", { tag: saved.id_tag }) });
        handle.close();
        await refresh();
      } catch (error) {
        errors.append(errorBox(error));
      } finally {
        submit.disabled = false;
      }
    });
    const handle = openDialog({
      title: editing ? t("Edit id tag {tag}", { tag: tag.id_tag }) : t("New id tag"),
      content: form,
    });
    (editing ? name : idInput).focus();
  }

  return {
    title: t("Id tags"),
    mount(container, route) {
      page = pageOf(route.query);
      root = h(
        "div",
        { class: "view" },
        h(
          "div",
          { class: "view-header" },
          h("div", {}, h("h1", {}, t("Id tags")), summary),
          button(t("New id tag"), { kind: "primary", onClick: () => openForm() }),
        ),
        errorSlot,
        h(
          "div",
          { class: "panel panel-flush" },
          table([t("Id tag"), t("Name"), t("Status"), t("Expiry"), t("Parent"), { label: t("Max. sessions"), class: "num" }, t("Created"), { label: t("Actions"), class: "actions" }], tbody, { caption: t("Id tags") }),
          pager,
        ),
        parents,
      );
      container.append(root);
    },
    update(route) {
      const next = pageOf(route.query);
      if (next.limit !== page.limit || next.offset !== page.offset) {
        page = next;
        generation += 1;
        refresh();
      }
    },
    refresh,
    unmount() {
      root = null;
    },
  };
}
