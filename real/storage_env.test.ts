import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { realStorageEnv } from './storage_env.ts';

describe('realStorageEnv', () => {
  it('creates the data directory and wires a working disk, clock, timers and rng', async () => {
    const root = fs.mkdtempSync(path.join(os.tmpdir(), 'ringkv-env-'));
    try {
      const dir = path.join(root, 'node1', 'data');
      const env = realStorageEnv(dir);
      expect(fs.statSync(dir).isDirectory()).toBe(true);
      const f = env.disk.create('hello');
      f.append(new Uint8Array([1, 2, 3]));
      await new Promise<void>((resolve, reject) => f.sync((e) => (e ? reject(e) : resolve())));
      f.close();
      expect([...fs.readFileSync(path.join(dir, 'hello'))]).toEqual([1, 2, 3]);
      expect(env.clock.monotonicMs()).toBeGreaterThanOrEqual(0);
      expect(Math.abs(env.clock.wallMs() - Date.now())).toBeLessThan(1000);
      await new Promise<void>((resolve) => env.timers.setTimer(0, resolve));
      expect(env.rng.int(10)).toBeLessThan(10);
      expect(env.buggify('anything')).toBe(false);
      env.disk.close();
    } finally {
      fs.rmSync(root, { recursive: true, force: true });
    }
  });
});
