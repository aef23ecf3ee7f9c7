// "Did customer X get document Y, and if not, why?": a business key's path from the ERP to each customer.
import { api, qs } from '/console/api.js';
import { h, table, timeCell } from '/console/dom.js';

export async function mount(root, { params }) {
  const key = h('input', {
    id: 'lineage-key',
    type: 'search',
    placeholder: 'business key, e.g. 4711',
    'aria-label': 'Key',
    value: params.get('key') ?? '',
  });
  const entity = h('input', {
    id: 'lineage-entity',
    type: 'text',
    placeholder: 'entity (optional)',
    'aria-label': 'Entity',
    value: params.get('entity') ?? '',
  });
  const customer = h('input', {
    id: 'lineage-customer',
    type: 'text',
    placeholder: 'customer (optional)',
    'aria-label': 'Customer',
    value: params.get('customer') ?? '',
  });
  const box = h('div', { id: 'lineage' });
  const form = h(
    'form',
    { class: 'toolbar', onsubmit: (e) => (e.preventDefault(), search()) },
    h('h2', {}, 'Lineage'),
    key,
    entity,
    customer,
    h('button', { type: 'submit' }, 'Search'),
  );
  root.append(form, box);

  async function search() {
    if (!key.value.trim()) return;
    box.replaceChildren(h('p', {}, 'Searching…'));
    try {
      const r = await api(
        `/erpstream/v1/lineage${qs({ key: key.value.trim(), entity: entity.value.trim(), customer: customer.value.trim() })}`,
      );
      box.replaceChildren(...render(r));
    } catch (e) {
      box.replaceChildren(h('p', { class: 'error' }, e.message));
    }
  }

  function render(r) {
    const o = r.origin ?? {};
    return [
      h('h3', {}, `Origin: ${o.entity ?? ''} ${r.key}`),
      h(
        'p',
        { class: 'origin' },
        o.version !== undefined && o.version !== null ? `version ${o.version}` : 'not found at the origin',
        o.committedAt ? [' · committed ', timeCell(o.committedAt)] : '',
      ),
      h('h3', {}, 'Source events'),
      table(
        ['Topic', 'Partition', 'Offset', 'Version', 'Time'],
        (r.sourceEvents ?? []).map((e) =>
          h(
            'tr',
            { class: 'source-event' },
            h('td', {}, e.topic),
            h('td', { class: 'num' }, e.partition),
            h('td', { class: 'num offset' }, e.offset),
            h('td', { class: 'num' }, e.version),
            h('td', {}, timeCell(e.timestamp)),
          ),
        ),
        'No source event found.',
      ),
      h('h3', {}, 'Parked'),
      table(
        ['Connector', 'Version', 'Waits for', 'Reason', 'Since', 'Next check'],
        (r.parked ?? []).map((p) =>
          h(
            'tr',
            {},
            h('td', {}, p.connector ?? ''),
            h('td', {}, p.version),
            h('td', {}, p.waitingOn ?? ''),
            h('td', {}, p.reason ?? ''),
            h('td', {}, timeCell(p.firstParkedAt)),
            h('td', {}, timeCell(p.nextCheckAt)),
          ),
        ),
        'Not parked.',
      ),
      h('h3', {}, 'Deliveries'),
      table(
        ['Customer', 'Connector', 'Destination', 'Version', 'Target', 'Where', 'At'],
        (r.deliveries ?? []).map((d) =>
          h(
            'tr',
            { class: 'delivery', dataset: { customer: d.customer } },
            h('td', {}, d.customer),
            h('td', {}, d.connector),
            h('td', {}, d.destination),
            h('td', { class: 'num' }, d.version),
            h('td', {}, d.target),
            h(
              'td',
              { class: 'where' },
              d.kafkaOffset !== undefined && d.kafkaOffset !== null
                ? `offset ${d.kafkaOffset}`
                : d.sqlTable
                  ? `table ${d.sqlTable}`
                  : d.httpStatus
                    ? `HTTP ${d.httpStatus}`
                    : '',
            ),
            h('td', {}, timeCell(d.at)),
          ),
        ),
        'Not delivered to any customer.',
      ),
      h('h3', {}, 'Dead letters'),
      table(
        ['Topic', 'Partition', 'Offset', 'Error'],
        (r.dlq ?? []).map((d) =>
          h(
            'tr',
            {},
            h('td', {}, d.topic ?? ''),
            h('td', {}, d.partition),
            h('td', {}, d.offset),
            h('td', {}, d.error?.message ?? d.message ?? ''),
          ),
        ),
        'No dead letters.',
      ),
    ];
  }
  if (key.value) await search();
  return {};
}
