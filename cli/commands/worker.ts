import type { Command } from 'commander';
import { ConfigError } from '../../runtime/api/index.js';
import { loadWorkerConfig, readConfigFile } from '../../runtime/worker/config.js';
import { startDistributedWorker } from '../../runtime/worker/distributed/distributed-worker.js';
import { startStandaloneWorker } from '../../runtime/worker/standalone.js';
import { keepServingOnUncaughtErrors } from '../../runtime/logging/last-resort.js';

/**
 * `erpstream worker start [worker.properties] [connector.properties|json ...] --standalone`:
 * runs a Kafka-Connect-compatible worker in the foreground until SIGINT/SIGTERM, then drains tasks,
 * flushes offsets and exits.
 */
export function registerWorkerCommands(program: Command): void {
  const worker = program.command('worker').description('Run a Kafka-Connect-compatible worker');
  worker
    .command('start')
    .description('Start a worker; in standalone mode, further files are connector configs to create')
    .argument('[config]', 'worker config (.properties, .json or .yaml)')
    .argument('[connectors...]', 'connector configs to create at start (standalone)')
    .option('--standalone', 'standalone mode: offsets and connector configs in local files', false)
    .option('--distributed', 'distributed mode (the default when the worker config sets group.id)', false)
    .option('--listeners <url>', 'override `listeners`, e.g. http://127.0.0.1:8083')
    .option('--bootstrap-servers <list>', 'override `bootstrap.servers`')
    .action(
      async (
        configFile: string | undefined,
        connectorFiles: string[],
        opts: { standalone: boolean; distributed: boolean; listeners?: string; bootstrapServers?: string },
      ) => {
        if (opts.distributed && opts.standalone) {
          throw new ConfigError('Choose one of --standalone and --distributed');
        }
        const overrides: Record<string, string> = {};
        if (opts.listeners) overrides.listeners = opts.listeners;
        if (opts.bootstrapServers) overrides['bootstrap.servers'] = opts.bootstrapServers;
        // Like Connect's connect-distributed: a worker config with group.id runs distributed.
        const raw = configFile ? await readConfigFile(configFile) : {};
        const distributed = opts.distributed || (!opts.standalone && (raw['group.id'] ?? '').trim() !== '');
        if (distributed && connectorFiles.length > 0) {
          throw new ConfigError('Connector files are for standalone mode; in distributed mode use the REST API');
        }
        const config = await loadWorkerConfig(configFile, distributed ? 'distributed' : 'standalone', overrides);
        const connectors = await Promise.all(connectorFiles.map((f) => readConfigFile(f)));
        const running = distributed
          ? await startDistributedWorker({ config })
          : await startStandaloneWorker({ config, connectors });
        keepServingOnUncaughtErrors(running.logger);
        process.stdout.write(
          `${JSON.stringify({ event: 'worker.started', url: running.url, worker_id: running.workerId })}\n`,
        );
        await new Promise<void>((resolve) => {
          let stopping = false;
          const shutdown = (signal: NodeJS.Signals) => {
            if (stopping) {
              running.logger.warn(`Second ${signal}: exiting without waiting`);
              process.exit(130);
            }
            stopping = true;
            running.logger.info(`Received ${signal}; stopping gracefully`);
            // Each task is bounded by task.shutdown.graceful.timeout.ms; this bounds the whole stop, so a
            // client library stuck in a rebalance can never keep the process alive.
            const deadlineMs = config.gracefulShutdownMs + 15_000;
            setTimeout(() => {
              running.logger.error(`Shutdown did not finish within ${deadlineMs} ms; exiting`);
              process.exit(1);
            }, deadlineMs).unref();
            running.stop().then(resolve, (e: unknown) => {
              running.logger.error('Error during shutdown', { error: e });
              process.exitCode = 1;
              resolve();
            });
          };
          process.once('SIGINT', shutdown);
          process.once('SIGTERM', shutdown);
        });
        // Everything that matters is flushed and closed; do not wait for idle client timers.
        process.exit(process.exitCode ?? 0);
      },
    );
}
