import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { lookupSinkConfigDef } from '../../../../connectors/lookup-sink/config.js';
import { configDefToMarkdown } from '../../../../runtime/api/index.js';

describe('docs/lookup-sink.md', () => {
  it('carries the configuration reference generated from the ConfigDef', () => {
    const doc = readFileSync(new URL('../../../../docs/lookup-sink.md', import.meta.url), 'utf8');
    const block = /<!-- config:start -->\n([\s\S]*?)\n<!-- config:end -->/.exec(doc)?.[1];
    expect(block?.trim()).toBe(configDefToMarkdown(lookupSinkConfigDef).trim());
  });
});
