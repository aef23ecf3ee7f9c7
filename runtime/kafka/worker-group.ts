// The worker group of distributed mode: Kafka's own group coordinator decides membership and the leader;
// a custom assigner lets the leader hand every member the group view in the assignment's userData.
import { AssignerProtocol, type Consumer, type Kafka, type PartitionAssigner } from 'kafkajs';

export interface WorkerGroupMember {
  workerId: string;
  url: string;
}

export interface WorkerGroupView<W = unknown> {
  generation: number;
  leader: WorkerGroupMember;
  members: WorkerGroupMember[];
  /** Each member's work (by workerId), as the leader's `assign` decided it. */
  assignment: Record<string, W>;
}

export interface WorkerGroupOptions<W = unknown> {
  groupId: string;
  /** A topic every member subscribes to (the config topic); no partition is ever assigned. */
  topic: string;
  self: WorkerGroupMember;
  sessionTimeoutMs: number;
  heartbeatIntervalMs: number;
  rebalanceTimeoutMs: number;
  /** This member's current work, sent with every join so the leader can leave it where it runs. */
  owned?(): W;
  /** Leader only: every member's work from what each reported (incremental: only what must move, moves). */
  assign?(members: Array<WorkerGroupMember & { owned: W | null }>): Promise<Record<string, W>> | Record<string, W>;
  /** The generation to count from before this member saw one (the highest any status record carries). */
  initialGeneration?(): number;
  /** A new generation's view (after every rebalance). */
  onView(view: WorkerGroupView<W>): void;
  /** A rebalance started: the current view is no longer authoritative. */
  onRebalancing(): void;
  onError(error: unknown): void;
  /** The client gave up on the group (a crash it will not restart from): stop all work, we are no member. */
  onLost(error: unknown): void;
}

// v1: members report the work they run and the leader keeps it in place (incremental cooperative); v0 workers
// (eager round-robin) cannot join a v1 group, so a rolling upgrade is refused instead of running work twice.
const PROTOCOL = 'erpstream-connect-v1';

interface MemberData<W> {
  workerId: string;
  url: string;
  generation: number;
  owned?: W;
}

/**
 * Joins the worker group. The leader's assigner reads every member's metadata (worker id, REST URL, last
 * generation seen) and gives each the same view; members read their own assignment back from the
 * coordinator (DescribeGroups), since kafkajs keeps userData to itself.
 */
export class WorkerGroup<W = unknown> {
  private consumer: Consumer | null = null;
  private lastGeneration = 0;
  private stopped = false;

  constructor(
    private readonly kafka: Kafka,
    private readonly o: WorkerGroupOptions<W>,
  ) {}

  private assigner(): PartitionAssigner {
    return () => ({
      name: PROTOCOL,
      version: 0,
      protocol: () => ({
        name: PROTOCOL,
        metadata: AssignerProtocol.MemberMetadata.encode({
          version: 0,
          topics: [this.o.topic],
          userData: Buffer.from(
            JSON.stringify({
              workerId: this.o.self.workerId,
              url: this.o.self.url,
              generation: Math.max(this.lastGeneration, this.o.initialGeneration?.() ?? 0),
              ...(this.o.owned ? { owned: this.o.owned() } : {}),
            } satisfies MemberData<W>),
          ),
        }),
      }),
      assign: async ({ members }) => {
        const data = members.map((m) => {
          const meta = AssignerProtocol.MemberMetadata.decode(m.memberMetadata);
          return { memberId: m.memberId, ...(JSON.parse(meta?.userData.toString('utf8') || '{}') as MemberData<W>) };
        });
        const view: WorkerGroupView<W> = {
          generation: Math.max(0, ...data.map((d) => d.generation ?? 0)) + 1,
          leader: this.o.self,
          members: data
            .map((d) => ({ workerId: d.workerId, url: d.url }))
            .sort((a, b) => (a.workerId < b.workerId ? -1 : a.workerId > b.workerId ? 1 : 0)),
          assignment: this.o.assign
            ? await this.o.assign(data.map((d) => ({ workerId: d.workerId, url: d.url, owned: d.owned ?? null })))
            : {},
        };
        const userData = Buffer.from(JSON.stringify(view));
        return data.map((d) => ({
          memberId: d.memberId,
          memberAssignment: AssignerProtocol.MemberAssignment.encode({ version: 0, assignment: {}, userData }),
        }));
      },
    });
  }

  async start(): Promise<void> {
    const consumer = this.kafka.consumer({
      groupId: this.o.groupId,
      partitionAssigners: [this.assigner()],
      sessionTimeout: this.o.sessionTimeoutMs,
      heartbeatInterval: this.o.heartbeatIntervalMs,
      rebalanceTimeout: this.o.rebalanceTimeoutMs,
      allowAutoTopicCreation: false,
      // No partition is ever assigned: kafkajs's fetch loop only sleeps this long, then heartbeats when due.
      // Heartbeats (and so the news of a rebalance) keep their interval; an idle worker wakes once a second.
      maxWaitTimeInMs: 1000,
      retry: { retries: Number.MAX_SAFE_INTEGER, initialRetryTime: 200, maxRetryTime: 2000 },
    });
    this.consumer = consumer;
    consumer.on(consumer.events.REBALANCING, () => this.o.onRebalancing());
    consumer.on(consumer.events.GROUP_JOIN, (e) => {
      const { memberId } = e.payload as { memberId: string };
      void this.readView(memberId).catch((err: unknown) => this.o.onError(err));
    });
    consumer.on(consumer.events.CRASH, (e) => {
      if (this.stopped) return;
      const { error, restart } = e.payload as { error: unknown; restart: boolean };
      this.o.onRebalancing();
      if (restart) this.o.onError(error);
      else this.o.onLost(error);
    });
    await consumer.connect();
    await consumer.subscribe({ topics: [this.o.topic] });
    await consumer.run({ autoCommit: false, eachBatch: async () => {} });
  }

  /** Our own assignment, as the coordinator stored it for the generation we just joined. */
  private async readView(memberId: string): Promise<void> {
    for (let attempt = 0; attempt < 50 && !this.stopped; attempt++) {
      const group = await this.consumer!.describeGroup();
      const me = group.members.find((m) => m.memberId === memberId);
      if (group.state === 'Stable' && me && me.memberAssignment.length > 0) {
        const decoded = AssignerProtocol.MemberAssignment.decode(me.memberAssignment);
        if (decoded && decoded.userData.length > 0) {
          const view = JSON.parse(decoded.userData.toString('utf8')) as WorkerGroupView<W>;
          this.lastGeneration = view.generation;
          this.o.onView(view);
          return;
        }
      }
      // A newer rebalance began meanwhile, or the coordinator has not stored our assignment yet.
      if (group.state !== 'Stable' && group.state !== 'CompletingRebalance') return;
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  async stop(): Promise<void> {
    this.stopped = true;
    // disconnect() leaves the group, so the others rebalance at once instead of after the session timeout.
    await this.consumer?.disconnect();
    this.consumer = null;
  }
}
