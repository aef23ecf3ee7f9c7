// Parked and waiting records: what each waits for, since when, and when it is checked again.
import { api, qs } from '/console/api.js';
import { changed, h, table, timeCell } from '/console/dom.js';
import { customerSelect } from '/console/filters.js';

export async function mount(root, { params }) {
  let customer = params.get('customer') ?? '';
  const box = h('div', { id: 'parked' });
  const { select } = await customerSelect('parked-customer', customer, (v) => {
    customer = v;
    refresh();
  });
  root.append(h('div', { class: 'toolbar' }, h('h2', {}, 'Parked and waiting records'), select), box);

  async function refresh() {
    const data = await api(`/erpstream/v1/parked${qs({ customer, limit: 500 })}`);
    if (!changed(box, data)) return;
    const records = data.records ?? [];
    box.replaceChildren(
      h('p', { class: 'count' }, `${records.length} record${records.length === 1 ? '' : 's'}`),
      table(
        ['Customer', 'Connector', 'Entity', 'Id', 'Version', 'Waits for', 'Reason', 'Since', 'Next check', 'Attempts'],
        records.map((r) =>
          h(
            'tr',
            { class: 'parked-record', dataset: { entityId: r.entityId, customer: r.customer } },
            h('td', {}, r.customer),
            h('td', {}, r.connector),
            h('td', {}, r.entity),
            h(
              'td',
              {},
              h(
                'a',
                { href: `#lineage?key=${encodeURIComponent(r.entityId)}&entity=${encodeURIComponent(r.entity ?? '')}` },
                r.entityId,
              ),
            ),
            h('td', { class: 'num' }, r.version),
            h('td', {}, r.waitingOn ?? (r.waiting ? 'a registration' : 'backoff re-check')),
            h('td', { class: 'reason' }, r.reason),
            h('td', {}, timeCell(r.firstParkedAt)),
            h('td', {}, timeCell(r.nextCheckAt)),
            h('td', { class: 'num' }, r.attempts),
          ),
        ),
        'Nothing parked: every record was ready when it arrived.',
      ),
    );
  }
  return { refresh, every: 3000 };
}
