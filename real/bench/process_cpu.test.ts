import { spawn } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { cpuMicros, perOp, waitUntilQuiet } from './process_cpu.ts';

/** A child that spins on the CPU until killed. */
function spinner() {
  return node('for (;;) {}');
}

function node(script: string) {
  return spawn(process.execPath, ['-e', script], { stdio: 'ignore' });
}

describe('process CPU', () => {
  it('reads CPU time that grows while a process computes', async () => {
    const child = spinner();
    try {
      const a = cpuMicros([child.pid!]);
      await new Promise((r) => setTimeout(r, 300));
      const b = cpuMicros([child.pid!]);
      expect(a).not.toBeNull();
      expect(b!).toBeGreaterThan(a!);
      expect(perOp(a, b, 0)).toBeNull();
      expect(perOp(a, null, 10)).toBeNull();
      expect(perOp(0, 1000, 10)).toBe(100);
    } finally {
      child.kill('SIGKILL');
    }
  });

  it('gives up on a busy process after maxWaitMs, and finds an idle one quiet', async () => {
    const busy = spinner();
    try {
      const r = await waitUntilQuiet([busy.pid!], { windowMs: 100, maxCores: 0.2, maxWaitMs: 400 });
      expect(r.quiet).toBe(false);
      expect(r.waitedMs).toBeGreaterThanOrEqual(400);
    } finally {
      busy.kill('SIGKILL');
    }
    const idle = node('setInterval(() => {}, 1000)');
    try {
      await new Promise((r) => setTimeout(r, 300)); // past its start-up
      const r = await waitUntilQuiet([idle.pid!], { windowMs: 100, maxCores: 0.5, maxWaitMs: 5000 });
      expect(r.quiet).toBe(true);
    } finally {
      idle.kill('SIGKILL');
    }
  });

  it('is not quiet when /proc has no such process', async () => {
    expect(cpuMicros([2 ** 30])).toBeNull();
    expect((await waitUntilQuiet([2 ** 30], { windowMs: 10, maxCores: 1, maxWaitMs: 100 })).quiet).toBe(false);
  });
});
