// Safe DOM building: every piece of data becomes a text node or an attribute value,
// never HTML. Nothing in this dashboard assigns innerHTML.

const SVG_NS = "http://www.w3.org/2000/svg";

function appendChildren(node, children) {
  for (const child of children.flat(Infinity)) {
    if (child === null || child === undefined || child === false || child === true) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
}

function applyProps(node, props) {
  for (const [key, value] of Object.entries(props || {})) {
    if (value === null || value === undefined || value === false) continue;
    if (key === "class") {
      node.setAttribute("class", Array.isArray(value) ? value.filter(Boolean).join(" ") : value);
    } else if (key === "on") {
      for (const [event, handler] of Object.entries(value)) node.addEventListener(event, handler);
    } else if (key === "dataset") {
      for (const [name, data] of Object.entries(value)) node.dataset[name] = String(data);
    } else if (key === "value" && "value" in node) {
      node.value = String(value);
    } else if (key === "checked" || key === "selected" || key === "disabled" || key === "hidden") {
      node[key] = Boolean(value);
    } else if (key === "ref") {
      value(node);
    } else {
      node.setAttribute(key, value === true ? "" : String(value));
    }
  }
}

/** An HTML element: h("td", {class: "num"}, "text", otherNode, [more]). */
export function h(tag, props = {}, ...children) {
  const node = document.createElement(tag);
  applyProps(node, props);
  appendChildren(node, children);
  return node;
}

/** An SVG element, same calling convention as h(). */
export function s(tag, props = {}, ...children) {
  const node = document.createElementNS(SVG_NS, tag);
  applyProps(node, props);
  appendChildren(node, children);
  return node;
}

export function setChildren(node, ...children) {
  node.replaceChildren();
  appendChildren(node, children);
  return node;
}

let idCounter = 0;
export function uid(prefix = "id") {
  idCounter += 1;
  return `${prefix}-${idCounter}`;
}

/**
 * Update a <tbody> row by row, keeping the DOM of rows whose data did not change, so
 * auto-refresh never steals keyboard focus or text selection from an unchanged row.
 */
export function renderRows(tbody, items, key, renderRow, colspan, emptyText) {
  const previous = tbody._rows || new Map();
  const next = new Map();
  const rows = [];
  for (const item of items) {
    const id = String(key(item));
    const signature = JSON.stringify(item);
    const old = previous.get(id);
    const row = old && old.signature === signature ? old.row : renderRow(item);
    next.set(id, { signature, row });
    rows.push(row);
  }
  tbody._rows = next;
  if (rows.length === 0) {
    tbody.replaceChildren(h("tr", { class: "empty-row" }, h("td", { colspan }, emptyText)));
    return;
  }
  const same =
    tbody.children.length === rows.length && rows.every((row, i) => tbody.children[i] === row);
  if (!same) tbody.replaceChildren(...rows);
}

/** Collapse whitespace and cut long strings for compact cells (full text goes in title). */
export function truncate(text, max = 80) {
  const value = String(text ?? "");
  return value.length > max ? `${value.slice(0, max - 1)}…` : value;
}
