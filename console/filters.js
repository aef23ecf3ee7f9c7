// The customer filter the parked and DLQ views share, filled from /erpstream/v1/customers.
import { customers } from '/console/api.js';
import { h } from '/console/dom.js';

/** A <select> of customers ("" = all), with the connectors of each. */
export async function customerSelect(id, initial, onChange) {
  const list = (await customers().catch(() => null)) ?? [];
  const select = h(
    'select',
    { id, 'aria-label': 'Customer' },
    h('option', { value: '' }, 'All customers'),
    list.map((c) => h('option', { value: c.customer }, c.customer)),
  );
  if (initial && !list.some((c) => c.customer === initial)) select.append(h('option', { value: initial }, initial));
  select.value = initial ?? '';
  select.addEventListener('change', () => onChange(select.value));
  return { select, list };
}
