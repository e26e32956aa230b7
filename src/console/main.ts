// The console's entry point: the two views behind #cluster and #shop, the theme switch,
// the cluster watcher (always on: it is how the console finds a live member), and the shop,
// which comes alive from the event stream the first time its view is opened.

import { Client } from './api.js';
import { ClusterWatcher } from './cluster-watch.js';
import { renderCluster } from './cluster-view.js';
import { byId } from './dom.js';
import { ShopStore } from './shop.js';
import { fillFilamentTypes, renderShop, wireForm } from './shop-view.js';

const THEMES = ['auto', 'dark', 'light'] as const;
type Theme = (typeof THEMES)[number];

function applyTheme(theme: Theme): void {
  if (theme === 'auto') delete document.documentElement.dataset['theme'];
  else document.documentElement.dataset['theme'] = theme;
  // The visible text is the accessible name: it says the current choice.
  byId('theme').textContent = theme === 'auto' ? 'Theme: auto (system)' : `Theme: ${theme}`;
}

function setupTheme(): void {
  let theme: Theme = 'auto';
  try {
    const saved = localStorage.getItem('raft3d-theme');
    if (saved === 'dark' || saved === 'light') theme = saved;
  } catch {
    // Storage may be off (private mode): the theme just is not remembered.
  }
  applyTheme(theme);
  byId('theme').addEventListener('click', () => {
    theme = THEMES[(THEMES.indexOf(theme) + 1) % THEMES.length] ?? 'auto';
    applyTheme(theme);
    try {
      localStorage.setItem('raft3d-theme', theme);
    } catch {
      // See above.
    }
  });
}

/** Coalesces renders into one per frame (a burst of events or polls draws once). */
function throttled(render: () => void): () => void {
  let queued = false;
  return () => {
    if (queued) return;
    queued = true;
    requestAnimationFrame(() => {
      queued = false;
      render();
    });
  };
}

function start(): void {
  setupTheme();
  const watcher = new ClusterWatcher(location.origin);
  const client = new Client(location.origin, () => watcher.reachable());
  const store = new ShopStore(client, () => watcher.refresh());
  let shopStarted = false;

  const drawCluster = throttled(() => {
    renderCluster(watcher);
    const view = watcher.view();
    byId('banner').textContent = view.leader
      ? `leader ${view.leader.id} · term ${view.leader.term}`
      : 'no leader';
  });
  const drawShop = throttled(() => renderShop(store, client));
  watcher.onChange(drawCluster);
  store.onChange((change) => {
    drawShop();
    if (change) byId('live').textContent = change;
  });

  fillFilamentTypes(byId<HTMLSelectElement>('spool-type'));
  wireForm(byId<HTMLFormElement>('form-printer'), client, '/api/v1/printers', (p) => `Printer ${p.id} added`);
  wireForm(byId<HTMLFormElement>('form-spool'), client, '/api/v1/filaments', (f) => `Spool ${f.id} added`);
  wireForm(byId<HTMLFormElement>('form-job'), client, '/api/v1/print_jobs', (j) => `Job ${j.id} queued`);

  const show = (): void => {
    const shop = location.hash === '#shop';
    byId('view-cluster').hidden = shop;
    byId('view-shop').hidden = !shop;
    byId('nav-cluster').toggleAttribute('aria-current', !shop);
    byId('nav-shop').toggleAttribute('aria-current', shop);
    if (shop) byId('nav-shop').setAttribute('aria-current', 'page');
    else byId('nav-cluster').setAttribute('aria-current', 'page');
    // The cluster table refreshes twice a second while shown, every 2 s otherwise.
    watcher.interval = shop ? 2000 : 500;
    if (shop && !shopStarted) {
      shopStarted = true;
      store.connect();
    }
    drawShop();
    drawCluster();
  };
  window.addEventListener('hashchange', show);
  show();
}

start();
