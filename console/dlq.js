// A dead-letter topic with Connect's __connect.errors.* context decoded; redrive one record, the selected
// ones, or all matching the filter (through the pipeline, behind the version guard).
import { api, customers, qs } from '/console/api.js';
import { pickConnector } from '/console/dlq-pick.js';
import { changed, h, table, timeCell } from '/console/dom.js';

/** A record as text: JSON pretty-printed, a JsonConverter envelope ({schema, payload}) shown as its payload. */
function pretty(v, indent = 2) {
  if (v === null || v === undefined) return 'null';
  let data = v;
  if (typeof v === 'string') {
    try {
      data = JSON.parse(v);
    } catch {
      return v;
    }
  }
  if (data && typeof data === 'object' && 'schema' in data && 'payload' in data) data = data.payload;
  return JSON.stringify(data, null, indent);
}

export async function mount(root, { params, setStatus }) {
  const list = (await customers().catch(() => null)) ?? [];
  const wantedCustomer = params.get('customer') ?? '';
  const connectors = list
    .filter((c) => !wantedCustomer || c.customer === wantedCustomer)
    .flatMap((c) => (c.connectors ?? []).map((name) => ({ name, customer: c.customer })));
  let connector =
    params.get('connector') ??
    // Asking costs one topic read per connector: only for one customer's few sinks (the overview's DLQ links).
    (await pickConnector(
      wantedCustomer && connectors.length <= 20
        ? connectors.map((c) => c.name)
        : connectors.slice(0, 1).map((c) => c.name),
      async (name) => ((await api(`/erpstream/v1/dlq${qs({ connector: name, limit: 1 })}`)).records ?? []).length > 0,
    ));
  const select = h(
    'select',
    { id: 'dlq-connector', 'aria-label': 'Connector' },
    connectors.map((c) => h('option', { value: c.name }, `${c.customer} · ${c.name}`)),
  );
  if (connector && !connectors.some((c) => c.name === connector))
    select.append(h('option', { value: connector }, connector));
  select.value = connector;
  const filter = h('input', {
    id: 'dlq-filter',
    type: 'search',
    placeholder: 'error message contains…',
    'aria-label': 'Filter',
  });
  const box = h('div', { id: 'dlq' });
  const selected = new Set();
  let shown = [];

  const redrive = async (label, body) => {
    try {
      const r = await api('/erpstream/v1/dlq/redrive', { method: 'POST', body });
      setStatus(`${label}: ${r.redriven} redriven, ${r.skipped} skipped (audit ${r.auditId})`);
      box.dataset.lastRedrive = JSON.stringify(r);
      await refresh();
    } catch (e) {
      setStatus(`${label}: ${e.message}`, 'error');
    }
  };
  // The test the worker applies to a redrive's filter (messageContains): what is shown is what goes.
  const matching = () => {
    const f = filter.value.trim().toLowerCase();
    return f ? shown.filter((r) => (r.error?.message ?? '').toLowerCase().includes(f)) : shown;
  };
  const redriveSelected = h(
    'button',
    {
      id: 'dlq-redrive-selected',
      onclick: () =>
        redrive('redrive selected', {
          connector,
          records: [...selected].map((k) => ({ partition: Number(k.split(':')[0]), offset: k.split(':')[1] })),
        }),
    },
    'Redrive selected',
  );
  const redriveMatching = h(
    'button',
    {
      id: 'dlq-redrive-matching',
      // Every record of the topic that matches, not only those on screen: the worker applies the filter.
      onclick: () => {
        const text = filter.value.trim();
        return redrive('redrive matching', { connector, filter: text ? { messageContains: text } : {} });
      },
    },
    'Redrive all matching',
  );
  root.append(
    h('div', { class: 'toolbar' }, h('h2', {}, 'Dead letters'), select, filter, redriveSelected, redriveMatching),
    box,
  );
  select.addEventListener('change', () => {
    connector = select.value;
    after = '';
    selected.clear();
    refresh();
  });
  filter.addEventListener('input', () => render());

  function render(topic) {
    const rows = matching().flatMap((r) => {
      const key = `${r.partition}:${r.offset}`;
      const e = r.error ?? {};
      // The record's value and headers, on a full-width row of their own under it (opened by its Value button).
      const detail = h(
        'tr',
        { class: 'dlq-detail', hidden: true },
        h(
          'td',
          { colspan: 9 },
          h(
            'div',
            { class: 'payload' },
            h('pre', {}, r.valueEncoding === 'base64' ? `(binary, base64) ${r.value}` : pretty(r.value)),
            h('pre', {}, pretty(r.headers)),
          ),
        ),
      );
      const main = h(
        'tr',
        { class: 'dlq-record', dataset: { offset: r.offset, partition: r.partition } },
        h(
          'td',
          {},
          h('input', {
            type: 'checkbox',
            'aria-label': `select ${key}`,
            checked: selected.has(key),
            onchange: (ev) => (ev.target.checked ? selected.add(key) : selected.delete(key)),
          }),
        ),
        h('td', { class: 'num' }, key),
        h('td', {}, timeCell(r.timestamp)),
        h('td', { class: 'key' }, pretty(r.key, 0)),
        h('td', {}, e.stage ?? ''),
        h(
          'td',
          {},
          h(
            'details',
            {},
            h('summary', {}, `${e.exceptionClass ?? ''}: ${(e.message ?? '').split('\n')[0]}`),
            h('pre', {}, e.stacktrace ?? ''),
          ),
        ),
        h('td', {}, e.originalTopic ? `${e.originalTopic}[${e.originalPartition}]@${e.originalOffset}` : ''),
        h(
          'td',
          {},
          h(
            'button',
            {
              class: 'show-value',
              'aria-expanded': 'false',
              onclick: (ev) => {
                const open = detail.hidden;
                detail.hidden = !open;
                ev.target.setAttribute('aria-expanded', String(open));
              },
            },
            'Value',
          ),
        ),
        h(
          'td',
          {},
          h(
            'button',
            {
              class: 'redrive',
              onclick: () =>
                redrive(`redrive ${key}`, {
                  connector,
                  records: [{ partition: r.partition, offset: String(r.offset) }],
                }),
            },
            'Redrive',
          ),
        ),
      );
      return [main, detail];
    });
    box.replaceChildren(
      h(
        'p',
        { class: 'count' },
        // A customer's sinks may share the topic: the count is this connector's records, not the topic's.
        topic ? `Topic ${topic}: ${rows.length / 2} record${rows.length === 2 ? '' : 's'} from ${connector}` : '',
      ),
      table(
        ['', 'Partition:offset', 'Time', 'Key', 'Stage', 'Error', 'Original record', '', ''],
        rows,
        'No dead letters from this connector.',
      ),
    );
  }

  let topic = '';
  // Pages: the newest records first; `next` (a cursor from the worker) reads on from where this page ended.
  let after = '';
  let next = '';
  const pager = h(
    'p',
    { class: 'pager' },
    h('button', { id: 'dlq-first', onclick: () => ((after = ''), refresh()) }, 'Newest'),
    h('button', { id: 'dlq-next', onclick: () => next && ((after = next), refresh()) }, 'Next page'),
  );
  async function refresh() {
    if (!connector) {
      box.replaceChildren(h('p', { class: 'empty' }, 'No connector with a dead-letter topic.'));
      return;
    }
    const data = await api(`/erpstream/v1/dlq${qs({ connector, limit: 100, after })}`);
    next = data.next ?? '';
    if (!changed(box, data)) return;
    shown = data.records ?? [];
    topic = data.topic ?? '';
    render(topic);
    if (next || after) box.append(pager);
  }
  return { refresh, every: 5000 };
}
