import * as fs from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { NODE_PROCESS_V8_FLAGS, missingV8Flags } from './node_v8_flags.ts';

describe('node process V8 flags', () => {
  it('names what a process started without them lacks', () => {
    expect(missingV8Flags([])).toEqual([...NODE_PROCESS_V8_FLAGS]);
    expect(missingV8Flags(['--import', 'tsx'])).toEqual([...NODE_PROCESS_V8_FLAGS]);
    expect(missingV8Flags([...NODE_PROCESS_V8_FLAGS, '--cpu-prof'])).toEqual([]);
  });

  it('are the flags on the first line of bin/ringkv.mjs, which `ringkv start` runs with', () => {
    const bin = fileURLToPath(new URL('../bin/ringkv.mjs', import.meta.url));
    const shebang = fs.readFileSync(bin, 'utf8').split('\n')[0]!;
    expect(shebang).toBe(`#!/usr/bin/env -S node ${NODE_PROCESS_V8_FLAGS.join(' ')}`);
  });
});
