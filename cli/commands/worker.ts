import type { Command } from 'commander';
import { ConfigError } from '../../runtime/api/index.js';
import { CliError, ExitCode, classifyError } from '../errors.js';

/**
 * The worker reports an unreadable or unparsable file as a ConfigError, whose generic hint ("fix the configuration
 * key named above") names no key here; say what to fix instead.
 */
async function readSettingsFile(
  readConfigFile: (file: string) => Promise<Record<string, string>>,
  file: string,
  what: string,
): Promise<Record<string, string>> {
  try {
    return await readConfigFile(file);
  } catch (e) {
    const message = e instanceof Error ? e.message : String(e);
    throw CliError.invalidInput(
      message,
      message.startsWith('Cannot read')
        ? `Check the path of the ${what} and its permissions.`
        : `Fix the ${what} at the place named above (.properties, .json or .yaml, by its extension).`,
      e,
    );
  }
}

/** The start-up failure with the exit code of its cause: bad config 2, Kafka unreachable 3, anything else 1. */
function startError(e: unknown, isTransientKafkaError: (e: unknown) => boolean): unknown {
  const cause = e instanceof Error && e.name === 'WorkerStartError' ? e.cause : e;
  if (cause === e) return e;
  const message = e instanceof Error ? e.message : String(e);
  if (isTransientKafkaError(cause)) {
    return new CliError(message, {
      exitCode: ExitCode.UNREACHABLE,
      hint: 'Check bootstrap.servers and that the brokers run; worker.startup.timeout.ms sets how long start-up waits.',
      cause: e,
    });
  }
  const classified = classifyError(cause);
  return new CliError(message, { exitCode: classified.exitCode, hint: classified.hint, cause: e });
}
import { keepServingOnUncaughtErrors } from '../../runtime/logging/last-resort.js';

/**
 * `erpstream worker start [worker.properties] [connector.properties|json ...] --standalone`:
 * runs a Kafka-Connect-compatible worker in the foreground until SIGINT/SIGTERM, then drains tasks,
 * flushes offsets and exits.
 */
export function registerWorkerCommands(program: Command): void {
  const worker = program
    .command('worker')
    .description('run a Kafka-Connect-compatible worker (standalone or distributed)');
  worker
    .command('start')
    .description('start a worker in the foreground; in standalone mode, further files are connector configs to create')
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
        // Loaded here, not at the top: `erpstream --help` must not pay for the whole worker runtime.
        const { loadWorkerConfig, readConfigFile } = await import('../../runtime/worker/config.js');
        const overrides: Record<string, string> = {};
        if (opts.listeners) overrides.listeners = opts.listeners;
        if (opts.bootstrapServers) overrides['bootstrap.servers'] = opts.bootstrapServers;
        // Like Connect's connect-distributed: a worker config with group.id runs distributed.
        const raw = configFile ? await readSettingsFile(readConfigFile, configFile, 'worker config') : {};
        const distributed = opts.distributed || (!opts.standalone && (raw['group.id'] ?? '').trim() !== '');
        if (distributed && connectorFiles.length > 0) {
          throw new ConfigError('Connector files are for standalone mode; in distributed mode use the REST API');
        }
        if (configFile) {
          const { unknownWorkerKeyWarnings } = await import('../worker-config-check.js');
          for (const line of unknownWorkerKeyWarnings(raw, configFile)) process.stderr.write(`${line}\n`);
        }
        const config = await loadWorkerConfig(configFile, distributed ? 'distributed' : 'standalone', overrides);
        const connectors = await Promise.all(
          connectorFiles.map((f) => readSettingsFile(readConfigFile, f, 'connector file')),
        );
        // The plugins this build ships; the worker adds those of `plugin.path` to the same registry.
        const registry = (await import('../../bundle/builtin.js')).builtinRegistry();
        let running;
        try {
          // Loaded on use, so `erpstream --help` and the other commands stay fast.
          running = distributed
            ? await (
                await import('../../runtime/launch/distributed-worker.js')
              ).startDistributedWorker({ config, registry })
            : await (
                await import('../../runtime/launch/standalone.js')
              ).startStandaloneWorker({
                config,
                connectors,
                registry,
              });
        } catch (e) {
          // A start that cannot succeed exits non-zero; a Kafka client of the failed start that still holds a socket
          // or a timer must not keep the process alive without REST.
          setTimeout(() => process.exit(process.exitCode || ExitCode.FAILURE), 2000).unref();
          const { isTransientKafkaError } = await import('../../runtime/kafka/index.js');
          throw startError(e, isTransientKafkaError);
        }
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
