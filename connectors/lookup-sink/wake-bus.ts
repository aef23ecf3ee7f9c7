/**
 * In-process notice "this ledger key was just delivered", so children parked by any lookup-sink task in this
 * process (phones waiting for their person, handled by another connector) are re-checked at once instead of on
 * their backoff schedule. Only a hint: the park table and the ledger stay the truth, and the backoff re-check
 * covers tasks in other processes.
 */
type Listener = (keys: readonly string[]) => void;

const listeners = new Set<Listener>();

export const wakeBus = {
  subscribe(l: Listener): () => void {
    listeners.add(l);
    return () => listeners.delete(l);
  },
  publish(keys: readonly string[]): void {
    if (keys.length === 0) return;
    for (const l of listeners) l(keys);
  },
};
