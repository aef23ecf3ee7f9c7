import { mkdtemp, readFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { canonicalJson, FileConfigStore, FileOffsetStore, offsetKey } from '../../../../runtime/worker/stores.js';

describe('canonical offset keys', () => {
  it('serialize the same partition to the same bytes whatever the key order', () => {
    expect(offsetKey('c', { table: 'outbox', db: 'shop' })).toBe('["c",{"db":"shop","table":"outbox"}]');
    expect(canonicalJson({ b: [1, { y: 2, x: 1 }], a: null })).toBe('{"a":null,"b":[1,{"x":1,"y":2}]}');
  });
});

describe('FileOffsetStore', () => {
  it('persists, lists per connector, deletes with null, and reloads', async () => {
    const file = path.join(await mkdtemp(path.join(os.tmpdir(), 'erpstream-off-')), 'offsets.json');
    const s = new FileOffsetStore(file);
    await s.start();
    await s.set('a', [
      { partition: { f: 1 }, offset: { pos: 10 } },
      { partition: { f: 2 }, offset: { pos: 20 } },
    ]);
    await s.set('b', [{ partition: { f: 1 }, offset: { pos: 99 } }]);
    await s.set('a', [{ partition: { f: 2 }, offset: null }]);
    const again = new FileOffsetStore(file);
    await again.start();
    expect(await again.get('a', { f: 1 })).toEqual({ pos: 10 });
    expect(await again.get('a', { f: 2 })).toBeNull();
    expect(await again.list('a')).toEqual([{ partition: { f: 1 }, offset: { pos: 10 } }]);
    expect(JSON.parse(await readFile(file, 'utf8'))).toHaveProperty(['["b",{"f":1}]']);
  });
});

describe('FileOffsetStore under concurrent flushes', () => {
  it("keeps every task's offsets when flushes overlap", async () => {
    const file = path.join(await mkdtemp(path.join(os.tmpdir(), 'erpstream-off-')), 'offsets.json');
    const s = new FileOffsetStore(file);
    await s.start();
    await Promise.all(
      Array.from({ length: 10 }, (_, t) => s.set('c', [{ partition: { task: t }, offset: { seq: t } }])),
    );
    const again = new FileOffsetStore(file);
    await again.start();
    expect((await again.list('c')).length).toBe(10);
  });
});

describe('FileConfigStore', () => {
  it('keeps configs, target state and task configs across reloads', async () => {
    const file = path.join(await mkdtemp(path.join(os.tmpdir(), 'erpstream-cfgstore-')), 'connectors.json');
    const s = new FileConfigStore(file);
    await s.load();
    await s.putConnector('x', { 'connector.class': 'A', pw: '${env:PW}' });
    await s.putTaskConfigs('x', [{ t: '1' }]);
    await s.putTargetState('x', 'PAUSED');
    await s.putConnector('y', { 'connector.class': 'B' }, 'STOPPED');
    await s.removeConnector('y');
    const loaded = await new FileConfigStore(file).load();
    expect([...loaded.keys()]).toEqual(['x']);
    expect(loaded.get('x')).toEqual({
      config: { 'connector.class': 'A', pw: '${env:PW}' },
      targetState: 'PAUSED',
      taskConfigs: [{ t: '1' }],
    });
  });
});
