// anywidget entry of the chatops-widget chat panel (bundled by esbuild into
// chatops_widget/static/widget.js). `initialize` runs once per model: it starts the shared store
// (which asks the kernel for the history once); `render` runs once per view.
import { mountPanel } from "./panel/layout.js";
import { Store } from "./store.js";
import { injectStyles } from "./styles.js";

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
    const store = storeFor(model);
    return () => {
      store.stop();
      stores.delete(model);
    };
  },
  render({ model, el }) {
    injectStyles(el.ownerDocument || document);
    return mountPanel(model, el, storeFor(model));
  },
};
