/** One worker of the group as the leader announced it. */
export interface GroupMember {
  /** `host:port` (the worker_id in statuses). */
  workerId: string;
  /** REST URL other workers forward requests to. */
  url: string;
}

/** What the group leader hands every member after a rebalance (in the assignment's userData). */
export interface GroupView {
  /** Increases with every rebalance (the leader takes the highest generation any member reported, plus one). */
  generation: number;
  leader: GroupMember;
  /** Every member, sorted by workerId: the order work is dealt out in. */
  members: GroupMember[];
}

export interface WorkUnit {
  connector: string;
  /** -1 is the Connector object itself (Connect's convention in assignments). */
  task: number;
}

/**
 * Eager round-robin, as Connect's EagerAssignor: connectors first, then every task, dealt out over the
 * members in order with one cursor, so connectors and tasks both spread evenly. Deterministic: every
 * worker computes the same result from the same group view and the same config topic contents, so a new
 * connector or a changed task count needs no rebalance.
 */
export function assignWork(
  members: readonly GroupMember[],
  connectors: ReadonlyArray<{ name: string; tasks: number }>,
): Map<string, WorkUnit[]> {
  const out = new Map<string, WorkUnit[]>(members.map((m) => [m.workerId, []]));
  if (members.length === 0) return out;
  const sorted = [...connectors].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  let cursor = 0;
  const give = (unit: WorkUnit) => {
    out.get(members[cursor % members.length]!.workerId)!.push(unit);
    cursor++;
  };
  for (const c of sorted) give({ connector: c.name, task: -1 });
  for (const c of sorted) for (let t = 0; t < c.tasks; t++) give({ connector: c.name, task: t });
  return out;
}

export const unitKey = (u: WorkUnit) => `${u.connector}\0${u.task}`;
