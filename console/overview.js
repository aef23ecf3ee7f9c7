// Connectors and tasks with their state, last error and trace, and the Connect REST API's buttons; the
// per-customer counts from /erpstream/v1/customers.
import { api, customers } from '/console/api.js';
import { changed, h, num, table } from '/console/dom.js';

const enc = encodeURIComponent;

function stateBadge(state) {
  return h('span', { class: `state ${String(state).toLowerCase()}` }, state);
}

function trace(t) {
  if (!t) return '';
  const first = t.split('\n')[0];
  return h('details', { class: 'trace' }, h('summary', {}, first), h('pre', {}, t));
}

export async function mount(root, { setStatus }) {
  const custBox = h('div', { id: 'customers' });
  const connBox = h('div', { id: 'connectors' });
  root.append(h('h2', {}, 'Customers'), custBox, h('h2', {}, 'Connectors'), connBox);

  // Every button calls the Kafka Connect REST API itself: the same endpoint, the same permissions.
  const act = async (label, method, path) => {
    try {
      await api(path, { method });
      setStatus(`${label}: accepted`);
      await refresh();
    } catch (e) {
      setStatus(`${label}: ${e.message}`, 'error');
    }
  };

  async function refresh() {
    const [list, cs] = await Promise.all([api('/connectors?expand=status&expand=info'), customers()]);
    if (!changed(root, [list, cs])) return;
    const rows = [];
    for (const name of Object.keys(list).sort()) {
      const { status, info } = list[name];
      if (!status) continue;
      const c = status.connector;
      const n = enc(name);
      rows.push(
        h(
          'tr',
          { class: 'connector', dataset: { connector: name } },
          h('td', {}, h('strong', {}, name)),
          h('td', {}, status.type ?? info?.type ?? ''),
          h('td', {}, stateBadge(c.state)),
          h('td', {}, c.worker_id),
          h('td', {}, trace(c.trace)),
          h(
            'td',
            { class: 'actions' },
            h(
              'button',
              { onclick: () => act(`restart ${name}`, 'POST', `/connectors/${n}/restart?includeTasks=true`) },
              'Restart',
            ),
            c.state === 'PAUSED'
              ? h('button', { onclick: () => act(`resume ${name}`, 'PUT', `/connectors/${n}/resume`) }, 'Resume')
              : h('button', { onclick: () => act(`pause ${name}`, 'PUT', `/connectors/${n}/pause`) }, 'Pause'),
          ),
        ),
      );
      for (const t of status.tasks) {
        rows.push(
          h(
            'tr',
            { class: 'task', dataset: { connector: name, task: t.id } },
            h('td', {}, `↳ task ${t.id}`),
            h('td', {}, ''),
            h('td', {}, stateBadge(t.state)),
            h('td', {}, t.worker_id),
            h('td', {}, trace(t.trace)),
            h(
              'td',
              { class: 'actions' },
              h(
                'button',
                { onclick: () => act(`restart ${name}-${t.id}`, 'POST', `/connectors/${n}/tasks/${t.id}/restart`) },
                'Restart',
              ),
            ),
          ),
        );
      }
    }
    connBox.replaceChildren(
      table(['Connector', 'Type', 'State', 'Worker', 'Last error / trace', ''], rows, 'No connectors.'),
    );
    if (cs === null) {
      custBox.replaceChildren(h('p', { class: 'empty' }, 'This worker does not serve /erpstream/v1/customers.'));
      return;
    }
    custBox.replaceChildren(
      table(
        ['Customer', 'Connectors', 'Delivered', 'Waiting', 'Parked', 'Stale dropped', 'DLQ'],
        cs.map((c) =>
          h(
            'tr',
            { class: 'customer', dataset: { customer: c.customer } },
            h('td', {}, h('a', { href: `#plots?customer=${enc(c.customer)}` }, c.customer)),
            h('td', {}, (c.connectors ?? []).join(', ')),
            h('td', { class: 'num delivered' }, num(c.delivered)),
            h('td', { class: 'num waiting' }, h('a', { href: `#parked?customer=${enc(c.customer)}` }, num(c.waiting))),
            h('td', { class: 'num parked' }, h('a', { href: `#parked?customer=${enc(c.customer)}` }, num(c.parked))),
            h('td', { class: 'num stale' }, num(c.staleDropped)),
            h('td', { class: 'num dlq' }, h('a', { href: `#dlq?customer=${enc(c.customer)}` }, num(c.dlq))),
          ),
        ),
        'No customers: no connector carries erpstream.integration yet.',
      ),
    );
  }
  return { refresh, every: 5000 };
}
