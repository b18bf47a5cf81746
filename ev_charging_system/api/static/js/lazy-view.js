// A view whose module is loaded when it is first shown, so pages nobody opens cost nothing
// on the first load (the overview's budget is 150 KB on the wire).

/** `load()` resolves to the view's factory; the stand-in forwards to the view once loaded. */
export function lazyView(load, title) {
  let view = null;
  let mounted = null; // [container, route] while mounted
  const ready = load().then((factory) => {
    view = factory();
    if (mounted) view.mount(...mounted);
    return view;
  });
  return {
    title,
    events: ["station."],
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
