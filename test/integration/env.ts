/** Environment variables the integration tests read; `scripts/stack env` prints all of them. */
export type StackEnvName =
  'KAFKA_BROKERS' | 'SCHEMA_REGISTRY_URL' | 'PG_URL' | 'MYSQL_URL' | 'CONNECT_URL' | 'MSSQL_URL';

export const STACK_HINT = 'start the stack with scripts/stack up && eval "$(scripts/stack env)"';

/** The value of `name`, or an error that says how to get it. Integration tests never skip silently. */
export function requireEnv(name: StackEnvName): string {
  const value = process.env[name]?.trim();
  if (!value) {
    const where = process.env.CI === 'true' ? ' (CI: .ci/run must start the stack before the tests)' : '';
    throw new Error(`${name} is not set: ${STACK_HINT}${where}`);
  }
  return value;
}

export { uniqueSuffix } from '../support/worker.js';
