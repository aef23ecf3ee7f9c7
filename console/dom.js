// Tiny DOM helpers. Data from the worker (traces, DLQ payloads, keys) only ever becomes text nodes, never HTML.

/** h('td', {class: 'num'}, 'text', child…): an element; attributes starting with "on" become listeners. */
export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs ?? {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k.startsWith('on') && typeof v === 'function') el.addEventListener(k.slice(2), v);
    else if (k === 'dataset') Object.assign(el.dataset, v);
    else el.setAttribute(k, v === true ? '' : String(v));
  }
  append(el, children);
  return el;
}

function append(el, children) {
  for (const c of children) {
    if (c === undefined || c === null || c === false) continue;
    if (Array.isArray(c)) append(el, c);
    else el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
}

/** A table from column headers and rows of cells; an empty list shows `empty` instead. */
export function table(headers, rows, empty = 'Nothing to show.') {
  if (rows.length === 0) return h('p', { class: 'empty' }, empty);
  return h(
    'table',
    {},
    h(
      'thead',
      {},
      h(
        'tr',
        {},
        headers.map((x) => h('th', {}, x)),
      ),
    ),
    h('tbody', {}, rows),
  );
}

/** "12 s ago", "3 min ago", "in 4 s" from an ISO string or epoch ms. */
export function relative(when, now = Date.now()) {
  const t = typeof when === 'number' ? when : Date.parse(when);
  if (!Number.isFinite(t)) return '';
  const d = Math.round((t - now) / 1000);
  const a = Math.abs(d);
  const text = a < 60 ? `${a} s` : a < 3600 ? `${Math.round(a / 60)} min` : `${Math.round(a / 3600)} h`;
  return d <= 0 ? `${text} ago` : `in ${text}`;
}

/** A timestamp as local time with its relative age, e.g. "10:04:12 (2 min ago)". */
export function timeCell(when) {
  if (when === undefined || when === null || when === '') return '';
  const t = typeof when === 'number' ? when : Date.parse(when);
  if (!Number.isFinite(t)) return String(when);
  return h(
    'time',
    { datetime: new Date(t).toISOString(), title: new Date(t).toISOString() },
    `${new Date(t).toLocaleTimeString()} (${relative(t)})`,
  );
}

export function num(n) {
  return typeof n === 'number' ? n.toLocaleString() : n === undefined || n === null ? '–' : String(n);
}

const lastShown = new WeakMap();

/**
 * Whether `data` differs from what `el` showed last: views redraw only then, so an opened trace or payload
 * stays open while the page refreshes.
 */
export function changed(el, data) {
  const text = JSON.stringify(data);
  if (lastShown.get(el) === text) return false;
  lastShown.set(el, text);
  return true;
}
