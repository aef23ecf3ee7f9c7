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
    const op = { c: 'insert', u: 'update', d: 'delete', r: 'snapshot' };
    return [
      h('h3', {}, `Origin: ${o.entity ?? ''} ${r.entityId ?? r.key}`),
      h(
        'p',
        { class: 'origin' },
        o.exists === false
          ? 'not at the origin now (deleted, or never written)'
          : o.version !== undefined && o.version !== null
            ? `version ${o.version}`
            : 'at the origin',
        o.committedAt ? [' · committed ', timeCell(o.committedAt)] : '',
      ),
      h('h3', {}, 'Source events'),
      table(
        ['Topic', 'Partition', 'Offset', 'Version', 'Change', 'Committed', 'On Kafka'],
        (r.sourceEvents ?? []).map((e) =>
          h(
            'tr',
            { class: 'source-event' },
            h('td', {}, e.topic),
            h('td', { class: 'num' }, e.partition),
            h('td', { class: 'num offset' }, e.offset),
            h('td', { class: 'num' }, e.version),
            h('td', {}, op[e.op] ?? e.op ?? ''),
            h('td', {}, timeCell(e.committedAt)),
            h('td', {}, timeCell(e.timestamp)),
          ),
        ),
        'No source event found.',
      ),
      r.scanned && r.scanned.complete === false
        ? h('p', { class: 'empty' }, `Only the last ${r.scanned.perPartition} records of each partition were searched.`)
        : '',
      h('h3', {}, 'Parked'),
      table(
        ['Customer', 'Connector', 'Version', 'Waits for', 'Reason', 'Since', 'Next check'],
        (r.parked ?? []).map((p) =>
          h(
            'tr',
            { class: 'lineage-parked' },
            h('td', {}, p.customer ?? ''),
            h('td', {}, p.connector ?? ''),
            h('td', { class: 'num' }, p.version),
            h('td', {}, p.waitingOn ?? (p.waiting ? 'a registration' : 'backoff re-check')),
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
            h('td', { class: 'num' }, versionCell(d)),
            h('td', {}, d.target ?? ''),
            h('td', { class: 'where' }, where(d)),
            h('td', {}, timeCell(d.at)),
          ),
        ),
        'Not delivered to any customer.',
      ),
      h('h3', {}, 'Dead letters'),
      table(
        ['Customer', 'Topic', 'Partition:offset', 'Time', 'Error'],
        (r.dlq ?? []).map((d) =>
          h(
            'tr',
            { class: 'lineage-dlq' },
            h('td', {}, d.customer ?? ''),
            h('td', {}, d.topic ?? ''),
            h('td', { class: 'num' }, `${d.partition}:${d.offset}`),
            h('td', {}, timeCell(d.timestamp)),
            h('td', {}, d.error?.message ?? ''),
          ),
        ),
        'No dead letters.',
      ),
    ];
  }

  /** Where the delivery went: a Kafka offset, a SQL table, an HTTP status. */
  function versionCell(d) {
    if (d.pending === 'sending') return 'sending (version not known yet)';
    if (d.pending === 'unconfirmed') return 'unconfirmed: the send never confirmed, repair to send it again';
    return d.deleted ? `${d.version} (withdrawn)` : d.version;
  }

  function where(d) {
    if (d.kafkaOffset !== undefined && d.kafkaOffset !== null)
      return `partition ${d.kafkaPartition ?? '?'}, offset ${d.kafkaOffset}`;
    if (d.kafkaOffset === null) return 'offset not found in the searched records';
    if (d.sqlTable) return `table ${d.sqlTable}`;
    if (d.httpStatus) return `HTTP ${d.httpStatus}`;
    return '';
  }

  if (key.value) await search();
  return {};
}
