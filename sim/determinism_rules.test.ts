import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';
import { scanSource } from './determinism_rules.ts';

const root = join(import.meta.dirname, '..');

function sources(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir).sort()) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) out.push(...sources(path));
    else if (name.endsWith('.ts') && !name.endsWith('.test.ts') && !name.endsWith('.d.ts')) out.push(path);
  }
  return out;
}

describe('determinism rules', () => {
  it('io/, core/ and sim/ reach the world only through io/ interfaces', () => {
    const violations = ['io', 'core', 'sim'].flatMap((d) =>
      sources(join(root, d)).flatMap((f) => scanSource(relative(root, f), readFileSync(f, 'utf8'))),
    );
    expect(violations.map((v) => `${v.file}:${v.line} ${v.rule}: ${v.text}`)).toEqual([]);
  });

  it('catches each kind of violation', () => {
    const bad = [
      "import { readFileSync } from 'node:fs';",
      "import os from 'os';",
      'const t = Date.now();',
      'const d = new Date();',
      'const r = Math.random();',
      'setTimeout(() => {}, 1);',
      'if (process.env.X) {}',
      'const p = performance.now();',
    ].join('\n');
    expect(scanSource('x.ts', bad).map((v) => v.line)).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
  });

  it('ignores comments and look-alike names', () => {
    const ok = [
      '// no Date.now() here',
      '/* nor Math.random() */',
      'const timers = env.timers.setTimer(5, cb);',
      'const myprocess = 1;',
    ].join('\n');
    expect(scanSource('x.ts', ok)).toEqual([]);
  });
});
