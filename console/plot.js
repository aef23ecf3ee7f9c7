// A small line chart in inline SVG: time on x, one or more series on y, gaps where a value is null.
const NS = 'http://www.w3.org/2000/svg';

function svg(tag, attrs = {}, text) {
  const el = document.createElementNS(NS, tag);
  for (const [k, v] of Object.entries(attrs)) el.setAttribute(k, String(v));
  if (text !== undefined) el.textContent = text;
  return el;
}

/** 0, 1, 2, 2.5, 5 × 10^n: a round upper bound for the axis. */
export function niceMax(v) {
  if (!(v > 0)) return 1;
  const p = 10 ** Math.floor(Math.log10(v));
  for (const m of [1, 2, 2.5, 5, 10]) if (v <= m * p) return m * p;
  return 10 * p;
}

export function formatValue(v, unit) {
  if (v === null || v === undefined) return '–';
  if (unit === 'ms')
    return v >= 10_000
      ? `${(v / 1000).toFixed(0)} s`
      : v >= 1000
        ? `${(v / 1000).toFixed(1)} s`
        : `${Math.round(v)} ms`;
  if (unit === '/s') return `${v >= 100 ? Math.round(v) : Number(v.toFixed(1))}/s`;
  return Number.isInteger(v) ? String(v) : v >= 10 ? String(Math.round(v)) : v.toFixed(1);
}

/**
 * lineChart({title, unit, from, to, series: [{label, points: [[t, v|null]…]}]}) → <figure> with an <svg>.
 * The svg carries data-points (how many non-null points it drew), which the browser tests read.
 */
export function lineChart({ title, unit, from: windowFrom, to, series, width = 560, height = 180 }) {
  // A worker that started a few minutes ago has a few minutes of history: the x axis starts at its first
  // sample, so the points spread over the width instead of piling up at "now".
  let first = to;
  for (const s of series) for (const [t] of s.points) if (t >= windowFrom && t < first) first = t;
  const from = Math.max(windowFrom, Math.min(first, to - 60_000));
  const pad = { l: 56, r: 12, t: 10, b: 22 };
  const w = width - pad.l - pad.r;
  const hgt = height - pad.t - pad.b;
  let max = 0;
  let drawn = 0;
  for (const s of series) for (const [, v] of s.points) if (v !== null && v > max) max = v;
  const top = niceMax(max);
  const x = (t) => pad.l + ((t - from) / Math.max(1, to - from)) * w;
  const y = (v) => pad.t + hgt - (v / top) * hgt;
  const root = svg('svg', { viewBox: `0 0 ${width} ${height}`, class: 'chart', role: 'img', 'aria-label': title });
  for (const f of [0, 0.5, 1]) {
    const v = top * f;
    root.append(svg('line', { x1: pad.l, x2: pad.l + w, y1: y(v), y2: y(v), class: 'grid' }));
    root.append(svg('text', { x: pad.l - 6, y: y(v) + 4, class: 'tick', 'text-anchor': 'end' }, formatValue(v, unit)));
  }
  const seconds = Math.round((to - from) / 1000);
  const ago = seconds < 120 ? `${seconds} s ago` : `${Math.round(seconds / 60)} min ago`;
  root.append(svg('text', { x: pad.l, y: height - 6, class: 'tick' }, ago));
  root.append(svg('text', { x: pad.l + w, y: height - 6, class: 'tick', 'text-anchor': 'end' }, 'now'));
  series.forEach((s, i) => {
    let d = '';
    let pen = false;
    for (const [t, v] of s.points) {
      if (v === null || t < from) {
        pen = false;
        continue;
      }
      d += `${pen ? 'L' : 'M'}${x(t).toFixed(1)},${y(v).toFixed(1)}`;
      pen = true;
      drawn++;
    }
    if (d) root.append(svg('path', { d, class: `line s${i}` }));
    // A lone point between gaps is still visible.
    const last = [...s.points].reverse().find(([, v]) => v !== null);
    if (last && last[0] >= from)
      root.append(svg('circle', { cx: x(last[0]), cy: y(last[1]), r: 2.5, class: `dot s${i}` }));
  });
  root.setAttribute('data-points', String(drawn));
  const legend = document.createElement('figcaption');
  const name = document.createElement('strong');
  name.textContent = title;
  legend.append(name);
  series.forEach((s, i) => {
    const last = [...s.points].reverse().find(([, v]) => v !== null);
    const item = document.createElement('span');
    item.className = `key s${i}`;
    item.textContent = `${s.label}: ${formatValue(last ? last[1] : null, unit)}`;
    legend.append(item);
  });
  const fig = document.createElement('figure');
  fig.className = 'plot';
  fig.dataset.title = title;
  fig.append(legend, root);
  return fig;
}
