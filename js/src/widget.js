// anywidget entry of the chatops-widget chat panel (bundled by esbuild into
// chatops_widget/widget/static/widget.js). `initialize` runs once per model: it starts the shared store
// (which asks the kernel for the history once); `render` runs once per view. The styles are not
// injected here: they ship as the widget's `_css` (widget.css), so every host's isolation works.
import { followConstants } from "./constants.js";
import { mountPanel } from "./panel/layout.js";
import { Store } from "./store.js";

const stores = new WeakMap();

function storeFor(model) {
  let store = stores.get(model);
  if (!store) {
    store = new Store(model);
    stores.set(model, store);
  }
  store.start();
  return store;
}

export default {
  initialize({ model }) {
    const unfollow = followConstants(model);
    const store = storeFor(model);
    return () => {
      unfollow();
      store.stop();
      stores.delete(model);
    };
  },
  render({ model, el }) {
    return mountPanel(model, el, storeFor(model));
  },
};
