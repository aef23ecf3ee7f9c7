// Which connector's dead letters the DLQ view opens on when the link names only a customer.

/**
 * A customer's sinks often share one dead-letter topic, and the view lists one connector's records at a time: the
 * first connector in name order is rarely the one that failed (the demo's poison row is globex's shipments sink,
 * listed fourth), so a link from the overview's DLQ count would open on "0 records". Open on the first connector
 * that has a dead letter instead; the first one when none has (or none could be asked).
 *
 * @param {string[]} names the customer's connectors, in the order the selector shows them
 * @param {(name: string) => Promise<boolean>} hasDeadLetters asks the worker; a rejection counts as "no"
 * @returns {Promise<string>}
 */
export async function pickConnector(names, hasDeadLetters) {
  if (names.length <= 1) return names[0] ?? '';
  const found = await Promise.all(names.map((n) => hasDeadLetters(n).catch(() => false)));
  return names[found.indexOf(true)] ?? names[0];
}
