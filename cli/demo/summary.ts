import type { Entity, Ledger, LedgerCheck } from './erp/simulator.js';
import type { Style } from '../output.js';

/**
 * The demo's proof that nothing was lost: for every customer and entity, the origin rows the operations team
 * wrote (the simulator's ledger, checked against the ERP's own tables) against the distinct ids that reached
 * the customer's destination topic; and every poison row found in the customer's dead-letter topic.
 */

/** What the demo's sink for one customer and entity delivered: ids seen on its destination topic. */
export interface DeliveredRows {
  customer: string;
  entity: Entity;
  topic: string;
  /** Distinct ids whose latest record on the topic is not a tombstone. */
  ids: ReadonlySet<string>;
  /** The `erpstream.version` header of each id's latest record. */
  versions?: ReadonlyMap<string, string>;
  /** The last row delivered on the topic, as the customer received it (JSON text). */
  sample?: { id: string; value: string } | null;
}

/** A record found on a customer's dead-letter topic, with the id read from its key. */
export interface DlqRecord {
  customer: string;
  topic: string;
  id: string | null;
  reason: string | null;
}

export interface EntityRow {
  customer: string;
  entity: Entity;
  origin: number;
  delivered: number;
  /** Origin rows never delivered (first few ids). */
  missing: string[];
  missingCount: number;
  /** Delivered ids that are not this customer's origin rows (another customer's, or a poison row). */
  unexpected: string[];
  unexpectedCount: number;
  /** Delivered, but not in its latest version (the customer holds an old state of the row). */
  stale: string[];
  staleCount: number;
}

export interface PoisonRow {
  customer: string;
  entity: Entity;
  id: string;
  reason: string;
  inDlq: boolean;
  dlqTopic: string | null;
}

/** One row a customer received, to show what the integration's cleaning and translation delivered. */
export interface ReceivedSample {
  customer: string;
  entity: Entity;
  topic: string;
  id: string;
  /** The record's value as JSON text, exactly as it is on the topic. */
  value: string;
}

export interface DemoSummary {
  ok: boolean;
  rows: EntityRow[];
  poison: PoisonRow[];
  /**
   * DLQ records that are not an expected poison row of that customer, including another customer's poison
   * row (a customer's chain must drop other customers' rows before it translates them). They fail the run.
   */
  unexpectedDlq: DlqRecord[];
  /** The last row each customer received per entity. */
  samples: ReceivedSample[];
  /** Records on the sinks' input topics past their committed offsets when the summary was taken. */
  sinkLag: number | null;
  /** Problems of the origin side itself (the ERP's tables or change table disagree with the ledger). */
  originProblems: string[];
  /**
   * Connectors and tasks FAILED when the summary was taken, with their trace's first line: the usual reason for
   * rows that never arrived, which the table alone cannot tell (a source that never produced shows as all lost).
   */
  failed: string[];
}

const SHOWN = 5;

export function summarize(
  ledger: Ledger,
  delivered: readonly DeliveredRows[],
  dlq: readonly DlqRecord[],
  originCheck: Pick<LedgerCheck, 'mismatches'>,
  options: {
    /** The origin's latest version per `<entity>:<id>`; when given, a delivered older version counts as stale. */
    latestVersions?: ReadonlyMap<string, string>;
    sinkLag?: number;
    /** Connectors and tasks FAILED at the end, e.g. `task demo-x-erp-source-0 FAILED: <trace's first line>`. */
    failed?: readonly string[];
  } = {},
): DemoSummary {
  const rows: EntityRow[] = [];
  const poison: PoisonRow[] = [];
  for (const [customer, cl] of Object.entries(ledger.customers)) {
    for (const entity of Object.keys(cl.rows) as Entity[]) {
      const origin = new Set(cl.rows[entity]);
      const mine = delivered.find((d) => d.customer === customer && d.entity === entity);
      const got = mine?.ids ?? new Set<string>();
      const missing = [...origin].filter((id) => !got.has(id));
      const unexpected = [...got].filter((id) => !origin.has(id));
      const latest = options.latestVersions;
      const stale = latest
        ? [...got].filter(
            (id) =>
              origin.has(id) &&
              latest.has(`${entity}:${id}`) &&
              mine?.versions?.get(id) !== latest.get(`${entity}:${id}`),
          )
        : [];
      rows.push({
        customer,
        entity,
        origin: origin.size,
        delivered: [...got].filter((id) => origin.has(id)).length,
        missing: missing.slice(0, SHOWN),
        missingCount: missing.length,
        unexpected: unexpected.slice(0, SHOWN),
        unexpectedCount: unexpected.length,
        stale: stale.slice(0, SHOWN),
        staleCount: stale.length,
      });
    }
    for (const p of cl.poison) {
      const hit = dlq.find((d) => d.customer === customer && d.id === p.id);
      poison.push({
        customer,
        entity: p.entity,
        id: p.id,
        reason: p.reason,
        inDlq: hit !== undefined,
        dlqTopic: hit?.topic ?? null,
      });
    }
  }
  const own = (d: DlqRecord) => ledger.customers[d.customer]?.poison.some((p) => p.id === d.id) ?? false;
  const unexpectedDlq = dlq.filter((d) => !own(d));
  const samples = delivered.flatMap((d) =>
    d.sample ? [{ customer: d.customer, entity: d.entity, topic: d.topic, ...d.sample }] : [],
  );
  const ok =
    originCheck.mismatches.length === 0 &&
    rows.every((r) => r.missingCount === 0 && r.unexpectedCount === 0 && r.staleCount === 0) &&
    poison.every((p) => p.inDlq) &&
    unexpectedDlq.length === 0;
  return {
    ok,
    rows,
    poison,
    unexpectedDlq,
    samples,
    sinkLag: options.sinkLag ?? null,
    originProblems: [...originCheck.mismatches],
    failed: [...(options.failed ?? [])],
  };
}

function pad(s: string, n: number): string {
  return s.length >= n ? s : s + ' '.repeat(n - s.length);
}

function padStart(s: string, n: number): string {
  return s.length >= n ? s : ' '.repeat(n - s.length) + s;
}

/** The human summary: one table of customer × entity, then the poison rows, then the verdict. */
export function renderSummary(summary: DemoSummary, style: Style): string {
  const lines: string[] = [];
  const head = ['CUSTOMER', 'ENTITY', 'ORIGIN', 'DELIVERED', 'LOST', 'STALE', 'UNEXPECTED'];
  const body = summary.rows.map((r) => [
    r.customer,
    r.entity,
    String(r.origin),
    String(r.delivered),
    String(r.missingCount),
    String(r.staleCount),
    String(r.unexpectedCount),
  ]);
  const widths = head.map((h, i) => Math.max(h.length, ...body.map((b) => b[i]!.length)));
  const fmt = (cells: string[]) =>
    cells
      .map((c, i) => (i < 2 ? pad(c, widths[i]!) : padStart(c, widths[i]!)))
      .join('  ')
      .trimEnd();
  lines.push(style.bold(fmt(head)));
  for (const [i, r] of summary.rows.entries()) {
    const line = fmt(body[i]!);
    lines.push(r.missingCount > 0 || r.unexpectedCount > 0 || r.staleCount > 0 ? style.red(line) : line);
    if (r.missingCount > 0)
      lines.push(
        style.red(`    not delivered: ${r.missing.join(', ')}${r.missingCount > r.missing.length ? ', …' : ''}`),
      );
    if (r.staleCount > 0) {
      lines.push(
        style.red(
          `    delivered in an old version: ${r.stale.join(', ')}${r.staleCount > r.stale.length ? ', …' : ''}`,
        ),
      );
    }
    if (r.unexpectedCount > 0) {
      lines.push(
        style.red(
          `    delivered but not this customer's: ${r.unexpected.join(', ')}${r.unexpectedCount > r.unexpected.length ? ', …' : ''}`,
        ),
      );
    }
  }
  const totals = summary.rows.reduce(
    (t, r) => ({ origin: t.origin + r.origin, delivered: t.delivered + r.delivered }),
    { origin: 0, delivered: 0 },
  );
  const lag = summary.sinkLag === null ? '' : `; sink lag ${summary.sinkLag}`;
  lines.push(style.dim(`total: ${totals.delivered} of ${totals.origin} origin rows delivered${lag}`));
  // One row per customer is enough to see the shaping; -o json has one per customer and entity.
  const samples: ReceivedSample[] = [];
  for (const x of summary.samples) if (!samples.some((y) => y.customer === x.customer)) samples.push(x);
  if (samples.length > 0) {
    lines.push('', style.bold("What the customers received (each one's last row, cleaned and translated):"));
    for (const x of samples) lines.push(`  ${x.customer} ${x.entity} ${x.id} on ${x.topic}: ${x.value}`);
  }
  if (summary.poison.length > 0) {
    lines.push('', style.bold('Poison rows (must end in the dead-letter topic, never at the customer):'));
    for (const p of summary.poison) {
      const where = p.inDlq ? `in ${p.dlqTopic}` : style.red('NOT in the dead-letter topic');
      lines.push(`  ${p.customer} ${p.entity} ${p.id}: ${where} (${p.reason})`);
    }
  }
  for (const d of summary.unexpectedDlq) {
    const foreign = summary.poison.find((p) => p.id === d.id && p.customer !== d.customer);
    const whose = foreign
      ? ` (${foreign.customer}'s poison row: ${d.customer}'s sink translated a row not its own)`
      : '';
    lines.push(
      style.red(
        `  unexpected dead letter on ${d.topic}: id ${d.id ?? '(unreadable key)'}${d.reason ? `: ${d.reason}` : ''}${whose}`,
      ),
    );
  }
  for (const p of summary.originProblems) lines.push(style.red(`  origin: ${p}`));
  if (summary.failed.length > 0) {
    lines.push('', style.bold('Failed on the worker at the end (the worker log, named above, has the full traces):'));
    for (const f of summary.failed) lines.push(style.red(`  ${f}`));
  }
  lines.push('');
  lines.push(
    summary.ok
      ? style.bold(
          'Nothing lost: every origin row reached its customer in its latest version, and every poison row is in the DLQ.',
        )
      : style.red(style.bold('MISMATCH: see the rows above.')),
  );
  return `${lines.join('\n')}\n`;
}
