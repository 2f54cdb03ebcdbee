import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { formatWorkloadValue } from '../workload_value.ts';
import { KS, OpLog, lwwValue, replicasOf } from './client_op_fixtures.ts';
import { checkValidity } from './validity.ts';

describe('validity checker', () => {
  it('accepts reads of written values, absent reads, and replicas holding written values', () => {
    const log = new OpLog();
    const w = log.write({ process: 1, call: 0, ret: 5 });
    const u = log.write({ process: 2, call: 1, outcome: 'info' });
    log.read({ process: 3, call: 2, ret: 3, values: [w.value!] }); // concurrent with the write
    log.read({ process: 3, call: 6, ret: 7, values: [u.value!] }); // a write of unknown outcome may be read
    log.read({ process: 3, call: 8, ret: 9, values: [] });
    const r = checkValidity(log.ops, [replicasOf('k', 'lww', [lwwValue(w.value!, 1), lwwValue(u.value!, 2)])]);
    expect(r).toEqual({ invalidReads: 0, violations: [] });
  });

  it('catches bytes nobody wrote: garbage, a flipped checksum, an invented sequence number', () => {
    const log = new OpLog();
    const w = log.write({ process: 1, call: 0, ret: 1 });
    const flipped = w.value!.slice(0, -1) + (w.value!.endsWith('0') ? '1' : '0');
    const invented = formatWorkloadValue({ keyspace: KS, key: 'k', process: 1, seq: 99 });
    log.read({ call: 2, values: ['garbage'] });
    log.read({ call: 4, values: [flipped] });
    log.read({ call: 6, values: [invented] });
    const r = checkValidity(log.ops, []);
    expect(r.invalidReads).toBe(3);
    expect(r.violations.map((v) => v.message)).toEqual([
      expect.stringContaining('bytes no client wrote (no checksum)'),
      expect.stringContaining('bytes no client wrote (checksum mismatch)'),
      expect.stringContaining('a value no client operation wrote'),
    ]);
  });

  it('catches a value of another key, of a definitely failed write, and of a write called after the read returned', () => {
    const log = new OpLog();
    const other = log.write({ process: 1, key: 'j', call: 0, ret: 1 });
    const failed = log.write({ process: 1, call: 2, ret: 3, outcome: 'fail' });
    log.read({ process: 2, call: 4, ret: 5, values: [other.value!] });
    log.read({ process: 2, call: 6, ret: 7, values: [failed.value!] });
    log.read({ process: 2, call: 8, ret: 9, values: ['placeholder'] });
    const late = log.write({ process: 1, call: 10, ret: 11 });
    log.ops[4]!.values = [late.value!];
    const r = checkValidity(log.ops, []);
    expect(r.violations.map((v) => v.message)).toEqual([
      expect.stringContaining('a value written to default/j, not to this key'),
      expect.stringContaining('reported as definitely failed'),
      expect.stringContaining('after the read returned'),
    ]);
  });

  it('catches a replica holding bytes nobody wrote', () => {
    const log = new OpLog();
    const w = log.write({ call: 0 });
    const r = checkValidity(log.ops, [replicasOf('k', 'lww', [lwwValue(w.value!, 1), lwwValue('rotten', 1)])]);
    expect(r.invalidReads).toBe(1);
    expect(r.violations[0]!.message).toContain('replica n2 holds "rotten"');
  });

  it('passes every read of a sequential register and catches any read whose bytes are damaged', () => {
    const arb = fc.record({
      steps: fc.array(fc.constantFrom('write', 'read', 'delete'), { minLength: 1, maxLength: 30 }),
      damage: fc.nat(),
      at: fc.nat(),
    });
    fc.assert(
      fc.property(arb, ({ steps, damage, at }) => {
        const log = new OpLog();
        let current: string | null = null;
        steps.forEach((s, i) => {
          if (s === 'write') current = log.write({ process: i % 3, call: 2 * i }).value;
          else if (s === 'delete') (log.delete({ call: 2 * i }), (current = null));
          else log.read({ process: 5, call: 2 * i, values: current === null ? [] : [current] });
        });
        expect(checkValidity(log.ops, []).invalidReads).toBe(0);
        const reads = log.ops.filter((op) => op.kind === 'read' && op.values!.length > 0);
        if (reads.length === 0) return;
        const victim = reads[at % reads.length]!;
        const v = victim.values![0]!;
        const i = damage % v.length;
        victim.values = [v.slice(0, i) + String.fromCharCode(v.charCodeAt(i) ^ 1) + v.slice(i + 1)];
        expect(checkValidity(log.ops, []).invalidReads).toBe(1);
      }),
      { numRuns: 300 },
    );
  });
});
