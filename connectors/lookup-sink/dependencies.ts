import type { Dependency, LedgerDependency } from './config.js';
import type { DeliveryLedger } from './ledger.js';
import type { EntityId } from './record-fields.js';
import { idText } from './record-fields.js';
import type { Row, SqlClient } from './sql/client.js';
import { bindTemplate } from './sql/named-params.js';
import { rowValue } from './template.js';

/** The ledger key a parked child waits for; the same text is published when that parent is delivered. */
export function ledgerKey(destination: string, entity: string, entityId: string): string {
  return `${destination}|${entity}|${entityId}`;
}

export interface Candidate {
  readonly idText: string;
  readonly id: EntityId;
  readonly row: Row;
}

export type Readiness = { ready: true } | { ready: false; reason: string; waitingOn: string | null };

/**
 * Evaluates the configured dependencies for a batch of looked-up rows: field checks first (free), then ledger
 * checks (one ledger query per parent entity for the whole batch), then SQL checks (one query per distinct
 * parameter set). The first unmet dependency is the reason given.
 */
export class DependencyChecker {
  sqlQueries = 0;

  constructor(
    private readonly deps: readonly Dependency[],
    private readonly ledger: DeliveryLedger,
    private readonly origin: SqlClient,
  ) {}

  async check(candidates: readonly Candidate[]): Promise<Map<string, Readiness>> {
    const result = new Map<string, Readiness>();
    const pending = new Set(candidates.map((c) => c.idText));
    const fail = (c: Candidate, reason: string, waitingOn: string | null = null) => {
      result.set(c.idText, { ready: false, reason, waitingOn });
      pending.delete(c.idText);
    };
    for (const dep of this.deps) {
      const open = candidates.filter((c) => pending.has(c.idText));
      if (open.length === 0) break;
      if (dep.type === 'field') {
        for (const c of open) {
          const v = rowValue(c.row, dep.field);
          if (v === null || v === undefined) fail(c, `dependency ${dep.name}: origin row has no ${dep.field} yet`);
        }
      } else if (dep.type === 'ledger') {
        await this.checkLedger(dep, open, fail);
      } else {
        const cache = new Map<string, boolean>();
        for (const c of open) {
          const { sql, params } = bindTemplate(dep.query, (name) => {
            if (name === 'id') return { one: c.id.length === 1 ? c.id[0] : c.idText };
            const v = rowValue(c.row, name);
            if (v === undefined) throw new Error(`${dep.query.key}: the origin row has no column ${name} for :${name}`);
            return { one: v };
          });
          const memo = JSON.stringify([sql, params], (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v));
          let found = cache.get(memo);
          if (found === undefined) {
            this.sqlQueries++;
            found = (await this.origin.query(sql, params)).length > 0;
            cache.set(memo, found);
          }
          if (!found) fail(c, `dependency ${dep.name}: check query returned no row`);
        }
      }
    }
    for (const id of pending) result.set(id, { ready: true });
    return result;
  }

  private async checkLedger(
    dep: LedgerDependency,
    open: readonly Candidate[],
    fail: (c: Candidate, reason: string, waitingOn?: string | null) => void,
  ): Promise<void> {
    const parents = new Map<string, string>();
    for (const c of open) {
      const parts = dep.idFields.map((f) => rowValue(c.row, f));
      // No parent id (a phone without a person) means nothing to wait for.
      if (parts.some((p) => p === null || p === undefined)) continue;
      parents.set(c.idText, idText(parts.map((p) => (typeof p === 'string' ? p : String(p)))));
    }
    const delivered = await this.ledger.get(dep.destination, dep.entity, [...parents.values()]);
    for (const c of open) {
      const parent = parents.get(c.idText);
      if (parent === undefined) continue;
      const entry = delivered.get(parent);
      if (!entry || entry.deleted) {
        fail(
          c,
          `dependency ${dep.name}: ${dep.entity} ${parent} not delivered to ${dep.destination} yet`,
          ledgerKey(dep.destination, dep.entity, parent),
        );
      }
    }
  }
}
