import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { erpSourceConfigDef } from '../../../../connectors/erp-source/config.js';
import { configDefToMarkdown } from '../../../../runtime/api/index.js';

describe('docs/erp-source.md', () => {
  it('carries the configuration reference generated from the ConfigDef', () => {
    const doc = readFileSync(new URL('../../../../docs/erp-source.md', import.meta.url), 'utf8');
    const block = /<!-- config:start -->\n([\s\S]*?)\n<!-- config:end -->/.exec(doc)?.[1];
    expect(block?.trim()).toBe(configDefToMarkdown(erpSourceConfigDef).trim());
  });
});
