import { ErpStreamError } from '../../runtime/api/index.js';
import type { Dependency, LedgerDependency } from './config.js';
import type { DeliveryLedger } from './ledger.js';
import type { EntityId } from './record-fields.js';
import { idText } from './record-fields.js';
import type { Row, SqlClient } from './sql/client.js';
import { bindTemplate } from './sql/named-params.js';
import { PoisonIdError, isValueError } from './poison.js';
import { rowValue } from './template.js';

/** The ledger key a parked child waits for; the same text is published when that parent is delivered. */
export function ledgerKey(destination: string, entity: string, entityId: string): string {
  return `${destination}|${entity}|${entityId}`;
}

export interface Candidate {
  /** Unique per looked-up row (an id has several when it fans out). */
  readonly key: string;
  readonly idText: string;
  readonly id: EntityId;
  readonly row: Row;
}

export type Readiness =
  | { ready: true }
  | {
      ready: false;
      reason: string;
      waitingOn: string | null;
      /** The unmet dependency does not expire (a registration): the record waits, it is never dead-lettered for it. */
      soft: boolean;
      /** The check query failed because of this id's value: the record goes to the DLQ with this error. */
      poison?: Error;
    };

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
    const pending = new Set(candidates.map((c) => c.key));
    let soft = false;
    const fail = (c: Candidate, reason: string, waitingOn: string | null = null, poison?: Error) => {
      result.set(c.key, { ready: false, reason, waitingOn, soft, ...(poison ? { poison } : {}) });
      pending.delete(c.key);
    };
    for (const dep of this.deps) {
      const open = candidates.filter((c) => pending.has(c.key));
      if (open.length === 0) break;
      soft = !dep.expires;
      if (dep.type === 'field') {
        for (const c of open) {
          const v = rowValue(c.row, dep.field);
          if (v === null || v === undefined) fail(c, `dependency ${dep.name}: origin row has no ${dep.field} yet`);
        }
      } else if (dep.type === 'ledger') {
        await this.checkLedger(dep, open, fail);
      } else {
        const cache = new Map<string, boolean | Error>();
        for (const c of open) {
          const { sql, params } = bindTemplate(dep.query, (name) => {
            if (name === 'id') return { one: c.id.length === 1 ? c.id[0] : c.idText };
            const v = rowValue(c.row, name);
            if (v === undefined) {
              throw new ErpStreamError(
                'LOOKUP_SINK_QUERY_PARAMETER',
                `${dep.query.key}: the origin row has no column ${name} for :${name}`,
              );
            }
            return { one: v };
          });
          const memo = JSON.stringify([sql, params], (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v));
          let found: boolean | Error | undefined = cache.get(memo);
          if (found === undefined) {
            this.sqlQueries++;
            try {
              found = (await this.origin.query(sql, params)).length > 0;
            } catch (e) {
              // One id the check query cannot take (a string for an integer column) must not fail the batch.
              if (!isValueError(e)) throw e;
              found = e as Error;
            }
            cache.set(memo, found);
          }
          if (found instanceof Error) {
            const error = new PoisonIdError(c.idText, `dependency ${dep.name}: ${found.message}`, { cause: found });
            fail(c, error.message, null, error);
          } else if (!found) fail(c, `dependency ${dep.name}: check query returned no row`);
        }
      }
    }
    for (const key of pending) result.set(key, { ready: true });
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
      parents.set(c.key, idText(parts.map((p) => (typeof p === 'string' ? p : String(p)))));
    }
    const delivered = await this.ledger.get(dep.destination, dep.entity, [...parents.values()]);
    for (const c of open) {
      const parent = parents.get(c.key);
      if (parent === undefined) continue;
      const entry = delivered.get(parent);
      // Withdrawn from every target (its registrations removed) counts as not delivered; so does an entry written
      // only ahead of a first send (version -1, planner.ts intentWritesOf): the send may not have happened.
      if (!entry || entry.deleted || entry.targets.length === 0 || entry.version < 0n) {
        fail(
          c,
          `dependency ${dep.name}: ${dep.entity} ${parent} not delivered to ${dep.destination} yet`,
          ledgerKey(dep.destination, dep.entity, parent),
        );
      }
    }
  }
}
