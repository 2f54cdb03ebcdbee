// The same seed must give the same trace hash in a separate process too (no
// hidden state shared through module caches, no ambient randomness).
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import { runSmallWorld } from './simulator_fixture.ts';

const SEEDS = [1, 2, 'c0ffee42d00d'];

describe('determinism across processes', () => {
  it('a separate tsx process computes the same trace hashes', () => {
    const dir = mkdtempSync(join(tmpdir(), 'ringkv-determinism-'));
    try {
      const script = join(dir, 'world.ts');
      const fixture = pathToFileURL(join(import.meta.dirname, 'simulator_fixture.ts')).href;
      writeFileSync(
        script,
        `import { runSmallWorld } from ${JSON.stringify(fixture)};\n` +
          `console.log(JSON.stringify(${JSON.stringify(SEEDS)}.map((s) => runSmallWorld(s))));\n`,
      );
      const out = execFileSync('npx', ['tsx', script], { cwd: join(import.meta.dirname, '..'), encoding: 'utf8', timeout: 60_000 });
      const theirs = JSON.parse(out.trim().split('\n').pop()!);
      const ours = SEEDS.map((s) => runSmallWorld(s));
      expect(theirs).toEqual(ours);
      expect(new Set(ours.map((r) => r.hash)).size).toBe(SEEDS.length);
      expect(ours.every((r) => r.events > 100 && r.crashes > 0)).toBe(true);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
