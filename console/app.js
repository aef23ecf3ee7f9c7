// The console's shell: one view at a time (by the URL's #hash), refreshed while it is shown.
import * as overview from '/console/overview.js';
import * as plots from '/console/plots.js';
import * as parked from '/console/parked.js';
import * as dlq from '/console/dlq.js';
import * as lineage from '/console/lineage.js';

const VIEWS = { overview, plots, parked, dlq, lineage };
const main = document.getElementById('view');
const statusEl = document.getElementById('status');
let current = null;

export function setStatus(text, kind = 'info') {
  statusEl.textContent = text;
  statusEl.className = kind;
}

async function show() {
  const name = (location.hash.slice(1).split('?')[0] || 'overview').toLowerCase();
  const view = VIEWS[name] ? name : 'overview';
  if (current) clearInterval(current.timer);
  for (const a of document.querySelectorAll('#tabs a')) a.classList.toggle('active', a.dataset.view === view);
  main.replaceChildren();
  main.dataset.view = view;
  const section = document.createElement('section');
  main.append(section);
  const me = { timer: null };
  current = me;
  try {
    const mounted = (await VIEWS[view].mount(section, { setStatus, params: hashParams() })) ?? {};
    if (current !== me) return;
    if (mounted.refresh) {
      const tick = () =>
        mounted.refresh().then(
          () => setStatus(`updated ${new Date().toLocaleTimeString()}`),
          (e) => setStatus(e.message, 'error'),
        );
      await tick();
      me.timer = setInterval(tick, mounted.every ?? 5000);
    }
  } catch (e) {
    setStatus(e.message, 'error');
  }
}

/** Parameters after the view in the hash, e.g. #lineage?key=4711. */
export function hashParams() {
  const q = location.hash.indexOf('?');
  return new URLSearchParams(q >= 0 ? location.hash.slice(q + 1) : '');
}

window.addEventListener('hashchange', show);
show();
