/** One worker of the group as the leader announced it. */
export interface GroupMember {
  /** `host:port` (the worker_id in statuses). */
  workerId: string;
  /** REST URL other workers forward requests to. */
  url: string;
}

export interface WorkUnit {
  connector: string;
  /** -1 is the Connector object itself (Connect's convention in assignments). */
  task: number;
}

/** What the group leader hands every member after a rebalance (in the assignment's userData). */
export interface GroupView {
  /** Increases with every rebalance (the leader takes the highest generation any member reported, plus one). */
  generation: number;
  leader: GroupMember;
  /** Every member, sorted by workerId. */
  members: GroupMember[];
  /**
   * workerId → the units the leader gave it at this rebalance. Units created later (a new connector, more tasks)
   * are placed by `assignWork` without a rebalance; units listed here never move until the next one.
   */
  assignment: Record<string, WorkUnit[]>;
}

/** A member as it joins a rebalance: what it runs now, so the leader can leave it there. */
export interface JoiningMember extends GroupMember {
  owned: WorkUnit[];
}

export interface ConnectorUnits {
  name: string;
  tasks: number;
}

export const unitKey = (u: WorkUnit) => `${u.connector}\0${u.task}`;

const byWorker = (a: GroupMember, b: GroupMember) => (a.workerId < b.workerId ? -1 : a.workerId > b.workerId ? 1 : 0);

function compareUnits(a: WorkUnit, b: WorkUnit): number {
  if (a.connector !== b.connector) return a.connector < b.connector ? -1 : 1;
  return a.task - b.task;
}

/** Every unit the config asks for, connectors before tasks, each sorted. */
export function allUnits(connectors: readonly ConnectorUnits[]): WorkUnit[] {
  const sorted = [...connectors].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  const out: WorkUnit[] = sorted.map((c) => ({ connector: c.name, task: -1 }));
  for (const c of sorted) for (let t = 0; t < c.tasks; t++) out.push({ connector: c.name, task: t });
  return out;
}

/** FNV-1a: a stable, well-spread number for a connector name. */
function hash(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 0x01000193) >>> 0;
  return h;
}

/**
 * Where a unit nobody holds goes between rebalances: each connector's units are dealt round-robin over the
 * members from a start that depends on its name only, so placing one connector never shifts another's units
 * (a least-loaded deal would: a new connector sorting first would take the places of the next one's tasks).
 */
function spread(members: readonly GroupMember[], u: WorkUnit): string {
  return members[(hash(u.connector) + u.task + 1) % members.length]!.workerId;
}

/**
 * Sticky placement of one kind of unit (Connector objects, or tasks): a unit stays with the member that holds it.
 * With `balance` (the leader at a rebalance) the others go, one by one in unit order, to the member holding the
 * fewest, then units move from the most to the least loaded member until they differ by at most one (only as many
 * as must move); without it (between rebalances) the others are spread by connector name.
 */
function place(
  members: readonly GroupMember[],
  units: readonly WorkUnit[],
  holders: ReadonlyMap<string, string>,
  balance: boolean,
  out: Map<string, WorkUnit[]>,
): void {
  const load = new Map<string, WorkUnit[]>(members.map((m) => [m.workerId, []]));
  const rest: WorkUnit[] = [];
  for (const u of units) {
    const holder = holders.get(unitKey(u));
    const list = holder === undefined ? undefined : load.get(holder);
    if (list) list.push(u);
    else rest.push(u);
  }
  const lightest = () => {
    let best: WorkUnit[] | null = null;
    let bestId = '';
    for (const m of members) {
      const l = load.get(m.workerId)!;
      if (best === null || l.length < best.length) [best, bestId] = [l, m.workerId];
    }
    return bestId;
  };
  for (const u of rest) load.get(balance ? lightest() : spread(members, u))!.push(u);
  if (balance) {
    for (;;) {
      let heavy = '';
      for (const m of members) {
        if (heavy === '' || load.get(m.workerId)!.length > load.get(heavy)!.length) heavy = m.workerId;
      }
      const light = lightest();
      const h = load.get(heavy)!;
      const l = load.get(light)!;
      if (h.length - l.length <= 1) break;
      h.sort(compareUnits);
      l.push(h.pop()!);
    }
  }
  for (const [id, list] of load) out.get(id)!.push(...list.sort(compareUnits));
}

function assign(
  members: readonly GroupMember[],
  connectors: readonly ConnectorUnits[],
  holders: ReadonlyMap<string, string>,
  balance: boolean,
): Map<string, WorkUnit[]> {
  const sorted = [...members].sort(byWorker);
  const out = new Map<string, WorkUnit[]>(sorted.map((m) => [m.workerId, []]));
  if (sorted.length === 0) return out;
  const units = allUnits(connectors);
  // Connect's incremental cooperative assignor balances Connector objects and tasks separately, too.
  place(
    sorted,
    units.filter((u) => u.task < 0),
    holders,
    balance,
    out,
  );
  place(
    sorted,
    units.filter((u) => u.task >= 0),
    holders,
    balance,
    out,
  );
  return out;
}

/**
 * The leader's assignment at a rebalance (incremental cooperative, as KIP-415): every member keeps what it runs;
 * only the units of departed members, units nobody runs, and the few that must move to even out the load (a
 * member joined) change hands. A unit two members claim stays with the first by workerId.
 */
export function rebalance(
  members: readonly JoiningMember[],
  connectors: readonly ConnectorUnits[],
): Map<string, WorkUnit[]> {
  const holders = new Map<string, string>();
  for (const m of [...members].sort(byWorker)) {
    for (const u of m.owned) if (!holders.has(unitKey(u))) holders.set(unitKey(u), m.workerId);
  }
  return assign(members, connectors, holders, true);
}

/**
 * The assignment under a view and the current config, which every worker computes alike (it depends only on the
 * view and the config topic, not on the order changes arrived in): units of the view's assignment stay where the
 * leader put them; units created since are spread by their connector's name alone. Nothing that runs ever moves
 * between rebalances, so adding, changing or removing one connector never stops another's tasks; the next
 * rebalance evens out the load, moving as few units as it can.
 */
export function assignWork(
  view: Pick<GroupView, 'members' | 'assignment'>,
  connectors: readonly ConnectorUnits[],
): Map<string, WorkUnit[]> {
  const holders = new Map<string, string>();
  for (const [worker, units] of Object.entries(view.assignment ?? {})) {
    for (const u of units) holders.set(unitKey(u), worker);
  }
  return assign(view.members, connectors, holders, false);
}
