import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningWorker } from '../../../runtime/launch/standalone.js';
import { requireEnv, uniqueSuffix } from '../env.js';
import { startTestWorker } from '../test-worker.js';
import { rest } from '../../support/worker.js';

// A wrong database password, through Connect's PUT /connector-plugins/{class}/config/validate: the error is on the
// password field (where a UI shows it), not on the URL; its message says the login was refused and holds no secret.
const sfx = uniqueSuffix();
const WRONG = `wrong-${sfx}`;
let worker: RunningWorker;

interface Validation {
  error_count: number;
  configs: Array<{ value: { name: string; value: string | null; errors: string[] } }>;
}

async function validate(plugin: string, config: Record<string, string>): Promise<Validation> {
  const res = await rest<Validation>(worker.url, 'PUT', `/connector-plugins/${plugin}/config/validate`, {
    'connector.class': plugin,
    name: `bugs-validate-${sfx}`,
    ...config,
  });
  expect(res.status).toBe(200);
  return res.body;
}

/** The keys with errors, and their messages. */
function errorsOf(v: Validation): Record<string, string[]> {
  return Object.fromEntries(
    v.configs.filter((c) => c.value.errors.length > 0).map((c) => [c.value.name, c.value.errors]),
  );
}

beforeAll(async () => {
  ({ worker } = await startTestWorker('bugs-validate'));
});
afterAll(async () => {
  await worker?.stop();
});

const pgUser = () => decodeURIComponent(new URL(requireEnv('PG_URL')).username);
const myUser = () => decodeURIComponent(new URL(requireEnv('MYSQL_URL')).username);

describe('config/validate with a wrong database password', () => {
  for (const [db, url, user] of [
    ['PostgreSQL', () => requireEnv('PG_URL'), pgUser],
    ['MariaDB', () => requireEnv('MYSQL_URL'), myUser],
  ] as const) {
    it(`ErpSource (${db}): the error is on connection.password`, async () => {
      const v = await validate('ErpSource', {
        'connection.url': url(),
        'connection.user': user(),
        'connection.password': WRONG,
        'change.table': 'erp.change_log',
        'topic.prefix': 'erp',
      });
      const errors = errorsOf(v);
      expect(Object.keys(errors)).toEqual(['connection.password']);
      expect(errors['connection.password']!.join(' ')).toMatch(/refused the login/);
      expect(JSON.stringify(v)).not.toContain(WRONG);
    });

    it(`LookupSink (${db}): the error is on the password key of the database that refused it`, async () => {
      const base = {
        topics: 'docs',
        'lookup.connection.url': url(),
        'lookup.table': 'docs',
        'lookup.key.columns': 'id',
        'entity.name': 'doc',
        'destination.type': 'jdbc',
        'destination.table': 'docs_out',
        'destination.connection.url': url(),
      };
      const lookup = errorsOf(
        await validate('LookupSink', {
          ...base,
          'lookup.connection.user': user(),
          'lookup.connection.password': WRONG,
        }),
      );
      expect(Object.keys(lookup)).toEqual(['lookup.connection.password']);
      expect(lookup['lookup.connection.password']!.join(' ')).toMatch(/refused the login/);
      const dest = await validate('LookupSink', {
        ...base,
        'destination.connection.user': user(),
        'destination.connection.password': WRONG,
      });
      expect(Object.keys(errorsOf(dest))).toEqual(['destination.connection.password']);
      expect(JSON.stringify(dest)).not.toContain(WRONG);
    });
  }
});
