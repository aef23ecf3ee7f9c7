import { DataError, RetriableError, sleep } from '../../../runtime/api/index.js';
import { exactJson } from '../json.js';
import type { Row } from '../sql/client.js';
import { renderTemplate } from '../template.js';
import { CircuitBreaker } from './circuit-breaker.js';
import type { HttpSettings } from '../config.js';
import type { Delivery, Destination, Rejection, Removal } from './destination.js';

// Settings types live in config.ts (it imports no destination): re-exported for the destination's callers.
export type { HttpSettings };

/** An HTTP answer that retrying may fix: 408, 429, 5xx; also timeouts and connection errors. */
function retriableStatus(status: number): boolean {
  return status === 408 || status === 429 || status >= 500;
}

/**
 * POSTs each ready row as JSON to a URL from a template (per customer/domain). Every request carries
 * `Idempotency-Key: <entity>:<id>:<version>`, so a receiver can drop the repeats at-least-once delivery makes.
 * 4xx answers are refused for good (the record goes to the DLQ with the status and body); timeouts, 408, 429 and
 * 5xx are retried with exponential backoff and jitter, behind a circuit breaker; when retries run out the batch
 * fails with a RetriableError and is retried later (offsets are not committed meanwhile).
 */
export class HttpDestination implements Destination {
  readonly breaker: CircuitBreaker;
  private retries = 0;
  private requests = 0;

  constructor(
    private readonly s: HttpSettings,
    private readonly entity: string,
  ) {
    this.breaker = new CircuitBreaker(`destination ${s.url.text}`, s.breakerFailures, s.breakerResetMs);
  }

  targetOf(row: Row, entityId: string): string {
    return renderTemplate(this.s.url, row, { entity: this.entity, id: entityId });
  }

  metrics(): Record<string, unknown> {
    return {
      breaker: this.breaker.state,
      breakerOpened: this.breaker.opened,
      httpRequests: this.requests,
      httpRetries: this.retries,
    };
  }

  private async call(
    method: string,
    url: string,
    entityId: string,
    version: bigint,
    body: string,
  ): Promise<Rejection | null> {
    for (let attempt = 1; ; attempt++) {
      this.breaker.before();
      this.requests++;
      let problem: string;
      try {
        const res = await fetch(url, {
          method,
          body,
          headers: {
            'content-type': 'application/json',
            'idempotency-key': `${this.entity}:${entityId}:${version}`,
            'x-erpstream-entity': this.entity,
            'x-erpstream-id': entityId,
            'x-erpstream-version': version.toString(),
            ...this.s.headers,
          },
          signal: AbortSignal.timeout(this.s.timeoutMs),
        });
        const text = await res.text().catch(() => '');
        if (res.ok) {
          this.breaker.success();
          return null;
        }
        if (!retriableStatus(res.status)) {
          // The receiver is up and answered: that is not a breaker failure.
          this.breaker.success();
          return {
            entityId,
            target: url,
            error: new DataError(
              `HTTP ${method} ${url} answered ${res.status} ${res.statusText} for ${this.entity} ${entityId} ` +
                `version ${version}: ${text.slice(0, 500)}`,
            ),
          };
        }
        problem = `HTTP ${res.status} ${res.statusText}`;
      } catch (e) {
        const err = e as Error;
        problem = err.name === 'TimeoutError' ? `timed out after ${this.s.timeoutMs} ms` : err.message;
      }
      this.breaker.failure();
      if (attempt >= this.s.maxAttempts) {
        throw new RetriableError(`HTTP ${method} ${url} failed ${attempt} times (last: ${problem})`);
      }
      this.retries++;
      const base = Math.min(this.s.retryMaxMs, this.s.retryInitialMs * 2 ** (attempt - 1));
      await sleep(base / 2 + (Math.random() * base) / 2);
    }
  }

  private async run<T>(items: readonly T[], one: (item: T) => Promise<Rejection | null>): Promise<Rejection[]> {
    const rejected: Rejection[] = [];
    let next = 0;
    let failed = false;
    const worker = async () => {
      while (next < items.length && !failed) {
        try {
          const r = await one(items[next++]!);
          if (r) rejected.push(r);
        } catch (e) {
          failed = true; // the batch will be retried as a whole: start nothing new
          throw e;
        }
      }
    };
    await Promise.all(Array.from({ length: Math.min(this.s.maxInFlight, items.length) }, worker));
    return rejected;
  }

  async deliver(items: readonly Delivery[]): Promise<readonly Rejection[]> {
    return this.run(items, (d) =>
      this.call('POST', d.target, d.entityId, d.version, exactJson(d.shaped ? d.shaped.value : d.row)),
    );
  }

  async remove(items: readonly Removal[]): Promise<readonly Rejection[]> {
    return this.run(items, (r) =>
      this.call(
        this.s.deleteMethod,
        r.target,
        r.entityId,
        r.version,
        exactJson({ entity: this.entity, id: r.entityId, version: r.version, deleted: true }),
      ),
    );
  }

  async close(): Promise<void> {}
}
