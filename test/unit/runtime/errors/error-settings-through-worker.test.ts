import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { DLQ_HEADERS } from '../../../../runtime/errors/dlq.js';
import { waitFor } from '../worker/fake-kafka.js';
import { type Harness, startHarness } from '../worker/harness.js';

/**
 * The error keys are booleans validation accepts in any case (`TRUE`, `True`, ` true `); a running task must act on
 * them exactly as validation read them. Before the settings were parsed once, `errors.log.enable=TRUE` validated
 * and then silently logged nothing.
 */
describe('error settings as written by users reach the running task', () => {
  let h: Harness;
  afterEach(async () => {
    await h.worker.stop();
  });

  async function runPoisonSource(errorKeys: Record<string, string>): Promise<void> {
    h = await startHarness();
    const input = path.join(h.dir, 'in.txt');
    await writeFile(input, '1\npoison\n3\n');
    const created = await h.req('POST', '/connectors', {
      name: 'src',
      config: {
        'connector.class': 'FileStreamSource',
        file: input,
        topic: 'nums',
        transforms: 'toInt',
        'transforms.toInt.type': 'org.apache.kafka.connect.transforms.Cast$Value',
        'transforms.toInt.spec': 'int32',
        'errors.tolerance': 'all',
        ...errorKeys,
      },
    });
    expect(created.status).toBe(201);
    await waitFor(() => h.kafka.values('nums').length === 2);
  }

  const errorLog = () => h.logs.filter((l) => l.includes("Executing stage 'TRANSFORMATION'"));

  it.each(['TRUE', 'True', ' true '])('errors.log.enable=%j logs the tolerated failure', async (value) => {
    await runPoisonSource({ 'errors.log.enable': value });
    await waitFor(() => errorLog().length === 1);
    expect(errorLog()[0]).toContain("with class 'org.apache.kafka.connect.transforms.Cast$Value'");
  });

  it('errors.log.enable unset logs nothing for a tolerated failure (the default is off)', async () => {
    await runPoisonSource({});
    // The record after the poison one is through, so the failure has been handled (and would have been logged).
    expect(h.kafka.values('nums')).toEqual(['1', '3']);
    expect(errorLog()).toEqual([]);
  });

  it('errors.log.include.messages=TRUE puts the failed record in the log line', async () => {
    await runPoisonSource({ 'errors.log.enable': 'True', 'errors.log.include.messages': 'TRUE' });
    await waitFor(() => errorLog().length === 1);
    expect(errorLog()[0]).toContain('poison');
  });

  it('errors.deadletterqueue.context.headers.enable=TRUE adds the context headers, with a padded topic name', async () => {
    await runPoisonSource({
      'errors.deadletterqueue.topic.name': '  src-dlq ',
      'errors.deadletterqueue.context.headers.enable': 'TRUE',
    });
    await waitFor(() => h.kafka.values('src-dlq').length === 1);
    const [dlq] = h.kafka.topics.get('src-dlq')!;
    const stage = dlq!.headers.find(([k]) => k === DLQ_HEADERS.stage)?.[1];
    expect(stage?.toString()).toBe('TRANSFORMATION');
  });
});
