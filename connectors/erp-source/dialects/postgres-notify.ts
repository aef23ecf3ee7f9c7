import pg from 'pg';

/** What the commit listener tells its task. */
export interface CommitListenerEvents {
  /** A commit notification arrived, or listening (re)started: changes may have committed meanwhile. */
  wake(): void;
  /** Listening started (`null`) or the connection is down and is retried after `retryMs`. */
  state(down: { error: string; retryMs: number } | null): void;
  /**
   * A notification really arrived on this connection (not the wake of a (re)connect): the path delivers them. A
   * transaction-pooling proxy accepts LISTEN but never delivers, so only this proves the wake-up works.
   */
  notified?(): void;
}

export interface CommitListenerOptions {
  /** Connection settings (with the credentials): read at every (re)connect, never logged. */
  config: () => pg.ClientConfig;
  channel: string;
  events: CommitListenerEvents;
  /** First and longest wait before reconnecting (doubles in between). */
  retryMs?: { first: number; max: number };
}

/** `LISTEN "channel"`: the channel is an identifier, quoted so dots and capitals are kept as written. */
export function listenStatement(channel: string): string {
  return `LISTEN "${channel.replace(/"/g, '""')}"`;
}

/**
 * One dedicated PostgreSQL connection that LISTENs on the change table's NOTIFY channel for a task. It never
 * fails the task: a lost connection is reconnected with a doubling backoff while the task keeps polling on its
 * interval, and every (re)connect wakes the task once, so a commit whose notification was lost is read at once.
 * The connection runs no transaction (PostgreSQL delivers notifications only between transactions) and no query
 * besides LISTEN, so it never holds back the server's notification queue.
 */
export class PgCommitListener {
  private client: pg.Client | null = null;
  private closed = false;
  private readonly stopped = new AbortController();
  private loop: Promise<void> | null = null;

  constructor(private readonly o: CommitListenerOptions) {}

  start(): void {
    this.loop ??= this.run();
  }

  /** Ends the connection (also one still connecting) and the reconnect loop; resolves once both are gone. */
  async close(): Promise<void> {
    this.closed = true;
    this.stopped.abort();
    await this.client?.end().catch(() => {});
    await this.loop;
  }

  private async run(): Promise<void> {
    const { first, max } = this.o.retryMs ?? { first: 500, max: 30_000 };
    let delay = first;
    while (!this.closed) {
      const client = new pg.Client(this.o.config());
      this.client = client;
      let error = 'connection ended';
      const lost = new Promise<void>((resolve) => {
        // A connection lost while idle surfaces here (never as an uncaught error event).
        client.on('error', (e: Error) => {
          error = e.message;
          resolve();
        });
        client.on('end', () => resolve());
      });
      try {
        // pg never settles connect() when end() is called while connecting (a stop at that moment): 'end' does.
        const connecting = client.connect().then(() => true);
        connecting.catch(() => {});
        // Caught below: a lost connection is logged as the listener's state and retried, it never reaches a task.
        if (!(await Promise.race([connecting, lost.then(() => false)]))) throw new Error(error);
        if (this.closed) break;
        client.on('notification', (n) => {
          if (n.channel !== this.o.channel) return;
          this.o.events.notified?.();
          this.o.events.wake();
        });
        await client.query(listenStatement(this.o.channel));
        if (this.closed) break;
        this.o.events.state(null);
        this.o.events.wake();
        delay = first;
        await lost;
      } catch (e) {
        error = (e as Error).message;
      }
      await client.end().catch(() => {});
      this.client = null;
      if (this.closed) break;
      this.o.events.state({ error, retryMs: delay });
      await sleep(delay, this.stopped.signal);
      delay = Math.min(delay * 2, max);
    }
    await this.client?.end().catch(() => {});
    this.client = null;
  }
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const t = setTimeout(done, ms);
    function done(): void {
      clearTimeout(t);
      signal.removeEventListener('abort', done);
      resolve();
    }
    signal.addEventListener('abort', done, { once: true });
  });
}
