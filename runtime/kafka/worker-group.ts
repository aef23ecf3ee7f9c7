// The worker group of distributed mode: Kafka's own group coordinator decides membership and the leader;
// a custom assigner lets the leader hand every member the group view in the assignment's userData.
import { AssignerProtocol, type Consumer, type Kafka, type PartitionAssigner } from 'kafkajs';

export interface WorkerGroupMember {
  workerId: string;
  url: string;
}

export interface WorkerGroupView {
  generation: number;
  leader: WorkerGroupMember;
  members: WorkerGroupMember[];
}

export interface WorkerGroupOptions {
  groupId: string;
  /** A topic every member subscribes to (the config topic); no partition is ever assigned. */
  topic: string;
  self: WorkerGroupMember;
  sessionTimeoutMs: number;
  heartbeatIntervalMs: number;
  rebalanceTimeoutMs: number;
  /** A new generation's view (after every rebalance). */
  onView(view: WorkerGroupView): void;
  /** A rebalance started: the current view is no longer authoritative. */
  onRebalancing(): void;
  onError(error: unknown): void;
  /** The client gave up on the group (a crash it will not restart from): stop all work, we are no member. */
  onLost(error: unknown): void;
}

const PROTOCOL = 'erpstream-connect-v0';

interface MemberData {
  workerId: string;
  url: string;
  generation: number;
}

/**
 * Joins the worker group. The leader's assigner reads every member's metadata (worker id, REST URL, last
 * generation seen) and gives each the same view; members read their own assignment back from the
 * coordinator (DescribeGroups), since kafkajs keeps userData to itself.
 */
export class WorkerGroup {
  private consumer: Consumer | null = null;
  private lastGeneration = 0;
  private stopped = false;

  constructor(
    private readonly kafka: Kafka,
    private readonly o: WorkerGroupOptions,
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
              generation: this.lastGeneration,
            } satisfies MemberData),
          ),
        }),
      }),
      assign: async ({ members }) => {
        const data = members.map((m) => {
          const meta = AssignerProtocol.MemberMetadata.decode(m.memberMetadata);
          return { memberId: m.memberId, ...(JSON.parse(meta?.userData.toString('utf8') || '{}') as MemberData) };
        });
        const view: WorkerGroupView = {
          generation: Math.max(0, ...data.map((d) => d.generation ?? 0)) + 1,
          leader: this.o.self,
          members: data
            .map((d) => ({ workerId: d.workerId, url: d.url }))
            .sort((a, b) => (a.workerId < b.workerId ? -1 : a.workerId > b.workerId ? 1 : 0)),
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
      maxWaitTimeInMs: 500,
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
          const view = JSON.parse(decoded.userData.toString('utf8')) as WorkerGroupView;
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
