// The last hour per customer: capture lag, delivery lag, records in/out per second, parked records.
import { api, qs } from '/console/api.js';
import { h } from '/console/dom.js';
import { lineChart } from '/console/plot.js';

export async function mount(root, { params }) {
  const select = h(
    'select',
    { id: 'plot-customer', 'aria-label': 'Customer' },
    h('option', { value: '' }, 'All customers'),
  );
  const minutes = h(
    'select',
    { id: 'plot-minutes', 'aria-label': 'Time window' },
    [5, 15, 60].map((m) => h('option', { value: m, selected: m === 60 }, `last ${m} min`)),
  );
  const grid = h('div', { class: 'plots' });
  root.append(h('div', { class: 'toolbar' }, h('h2', {}, 'Plots'), select, minutes), grid);
  let wanted = params.get('customer') ?? '';
  select.addEventListener('change', () => {
    wanted = select.value;
    refresh();
  });
  minutes.addEventListener('change', () => refresh());

  async function refresh() {
    const data = await api(`/erpstream/v1/metrics/history${qs({ customer: wanted, minutes: minutes.value })}`);
    const known = new Set([...select.options].map((o) => o.value));
    for (const c of data.customers) if (!known.has(c)) select.append(h('option', { value: c }, c));
    select.value = wanted;
    const to = Date.now();
    const from = to - Number(minutes.value) * 60_000;
    const s = data.series;
    grid.replaceChildren(
      lineChart({
        title: 'Capture lag (ERP change → Kafka)',
        unit: 'ms',
        from,
        to,
        series: [{ label: 'capture', points: s.captureLagMs }],
      }),
      lineChart({
        title: 'Delivery lag (Kafka → destination)',
        unit: 'ms',
        from,
        to,
        series: [{ label: 'delivery', points: s.deliveryLagMs }],
      }),
      lineChart({
        title: 'Records per second',
        unit: '/s',
        from,
        to,
        series: [
          { label: 'in', points: s.recordsInPerSec },
          { label: 'out', points: s.recordsOutPerSec },
        ],
      }),
      lineChart({ title: 'Parked records', unit: '', from, to, series: [{ label: 'parked', points: s.parked }] }),
    );
    grid.dataset.stepMs = data.stepMs;
  }
  return { refresh, every: 5000 };
}
