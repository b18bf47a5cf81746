// A view whose module is loaded when it is first shown, so pages nobody opens cost nothing
// on the first load (the overview's budget is 150 KB on the wire).

/** `load()` resolves to the view's factory; the stand-in forwards to the view once loaded.
 * `events`: the event types (prefixes) that make the view refresh, as the view declares them. */
export function lazyView(load, title, events = ["station."]) {
  let view = null;
  let mounted = null; // [container, route] while mounted
  const ready = load().then((factory) => {
    view = factory();
    if (mounted) view.mount(...mounted);
    return view;
  });
  return {
    title,
    events,
    mount(container, route) {
      mounted = [container, route];
      if (view) view.mount(container, route);
    },
    update(route) {
      if (mounted) mounted[1] = route;
      if (view) view.update(route);
    },
    refresh() {
      return ready.then((loaded) => (mounted ? loaded.refresh() : undefined));
    },
    unmount() {
      mounted = null;
      if (view) view.unmount();
    },
  };
}
