import { cp, mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { runIntegrationsCli } from './run-cli.js';

/** `erpstream integrations test`: golden tests next to the integration files, offline, with CI exit codes. */

const EXAMPLES = fileURLToPath(new URL('../../../../examples/integrations', import.meta.url));

async function examplesWith(golden: (text: string) => string): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'erpstream-golden-'));
  await cp(EXAMPLES, dir, { recursive: true });
  const file = join(dir, 'acme.test.yaml');
  await writeFile(file, golden(await readFile(file, 'utf8')));
  return dir;
}

describe('integrations test', () => {
  it("passes the examples' golden tests (exit 0), and the golden file is not read as an integration", async () => {
    const r = await runIntegrationsCli(['integrations', 'test', '-f', EXAMPLES]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('PASS acme / a globex shipment is not for acme (acme-shipments-sink)');
    expect(r.stdout.trim().split('\n').at(-1)).toMatch(/^(\d+) of \1 cases passed\.$/);
  });

  it('a record that differs fails with a field diff and exit 1; the sibling of a given file is found too', async () => {
    const dir = await examplesWith((t) => t.replace('statCd: PICKED', 'statCd: SHIPPED'));
    const r = await runIntegrationsCli([
      'integrations',
      'test',
      '-f',
      join(dir, 'base.yaml'),
      '-f',
      join(dir, 'acme.yaml'),
    ]);
    expect(r.code).toBe(1);
    expect(r.stdout).toContain('FAIL acme / an acme shipment arrives cleaned');
    expect(r.stdout).toContain('  - statCd: "SHIPPED"\n  + statCd: "PICKED"\n');
    const json = await runIntegrationsCli(['-o', 'json', 'integrations', 'test', '-f', dir]);
    expect((JSON.parse(json.stdout) as Array<{ passed: boolean }>).filter((c) => !c.passed)).toHaveLength(1);
  });

  it("a code the test tables do not hold fails the case with the transform's error, not the run", async () => {
    const dir = await examplesWith((t) => t.replace("STAT_CD: '20'", "STAT_CD: '77'"));
    const r = await runIntegrationsCli(['integrations', 'test', '-f', dir]);
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/FAIL acme \/ an acme shipment[^\n]*\n {2}.*77/);
  });

  it('a broken test file exits 2 naming the field', async () => {
    const dir = await examplesWith((t) => t.replace('sink: persons', 'sink: people'));
    const r = await runIntegrationsCli(['integrations', 'test', '-f', dir]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('integration "acme" has no sink "people"');
  });
});
