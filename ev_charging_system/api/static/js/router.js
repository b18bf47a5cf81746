// Hash routes: #/<view>[/<id>][?query]. Filters live in the query so links can be shared.

let handler = () => {};

export function setRouteHandler(fn) {
  handler = fn;
}

export function parseRoute(hash = location.hash) {
  const raw = hash.startsWith("#/") ? hash.slice(2) : "";
  const [pathPart, queryPart = ""] = raw.split("?");
  const [name = "", ...rest] = pathPart.split("/");
  let id = null;
  if (rest.length && rest.join("/")) {
    try {
      id = decodeURIComponent(rest.join("/"));
    } catch {
      id = null;
    }
  }
  return { name, id, query: new URLSearchParams(queryPart) };
}

export function hashFor(name, id = null, query = null) {
  let hash = `#/${name}`;
  if (id !== null && id !== undefined && id !== "") hash += `/${encodeURIComponent(id)}`;
  const params = new URLSearchParams();
  for (const [key, value] of query instanceof URLSearchParams ? query.entries() : Object.entries(query || {})) {
    if (value !== null && value !== undefined && value !== "") params.set(key, String(value));
  }
  const search = params.toString();
  return search ? `${hash}?${search}` : hash;
}

/** Go to a route; `replace` rewrites the current history entry instead of adding one. */
export function navigate(name, id = null, query = null, { replace = false } = {}) {
  const hash = hashFor(name, id, query);
  if (hash === location.hash) return;
  if (replace) {
    history.replaceState(null, "", hash);
    handler();
  } else {
    location.hash = hash;
  }
}
