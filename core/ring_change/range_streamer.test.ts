import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { keyToken } from '../ring/key_hash.ts';
import { MAX_TOKEN, rangeContains } from '../ring/token_range.ts';
import { sameVersion } from '../replication/version_set.ts';
import { readRangePage } from './range_pages.ts';
import { RangeStreamer, type RangeStreamerDeps } from './range_streamer.ts';
import type { StreamTask } from './stream_plan.ts';
import { ManualTimers, MapStore, keyOf, lww } from './ring_change.testkit.ts';

interface World {
  timers: ManualTimers;
  sources: Map<string, MapStore>;
  target: MapStore;
  checkpoints: Map<string, Uint8Array>;
  lose: () => boolean;
  marks: string[];
}

function deps(w: World): RangeStreamerDeps {
  return {
    timers: w.timers,
    fetch: (source, request, cb) => {
      const lost = w.lose();
      const page = readRangePage(w.sources.get(source)!.scan, request.ks, request.ranges, request.after, request.maxBytes);
      w.timers.setTimer(lost ? 1000 : 3, () => cb(lost ? null : { items: page.items, next: page.next }));
    },
    apply: (ks, key, value, cb) => {
      w.target.put(ks, key, value);
      w.timers.setTimer(1, () => cb(null));
    },
    loadCheckpoint: (name) => w.checkpoints.get(name),
    saveCheckpoint: (name, value, cb) => {
      w.checkpoints.set(name, value);
      w.timers.setTimer(1, () => cb(null));
    },
    mark: (what) => w.marks.push(what),
  };
}

describe('RangeStreamer', () => {
  it('through lost pages and receiver crashes, the target ends with the merge of its own and the sources\' records in the ranges', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 300 }),
        fc.array(fc.record({ start: fc.bigInt({ min: 0n, max: MAX_TOKEN }), end: fc.bigInt({ min: 0n, max: MAX_TOKEN }) }), { minLength: 1, maxLength: 3 }),
        fc.array(fc.integer({ min: 1, max: 200 }), { maxLength: 4 }),
        fc.integer({ min: 0, max: 2 ** 31 }),
        (count, ranges, crashes, seed) => {
          let s = seed;
          const w: World = {
            timers: new ManualTimers(),
            sources: new Map([
              ['s1', new MapStore()],
              ['s2', new MapStore()],
            ]),
            target: new MapStore(),
            checkpoints: new Map(),
            // 32-bit LCG (Math.imul keeps it exact; a float product loses the low bits and can lose every page); high bits decide.
            lose: () => (((s = (Math.imul(s, 1103515245) + 12345) >>> 0) >>> 16) & 7) === 0,
            marks: [],
          };
          for (let i = 0; i < count; i++) {
            w.sources.get('s1')!.put('ks', keyOf(i), lww(10 + i, i % 7 === 0 ? null : `s1-${i}`));
            if (i % 3 === 0) w.sources.get('s2')!.put('ks', keyOf(i), lww(5 + 2 * i, `s2-${i}`));
            if (i % 5 === 0) w.target.put('ks', keyOf(i), lww(3 * i, `t-${i}`));
          }
          const expected = new MapStore();
          for (const r of w.target.all('ks')) expected.put('ks', r.key, r.value);
          for (const src of w.sources.values()) for (const r of src.all('ks')) if (ranges.some((x) => rangeContains(x, keyToken(r.key)))) expected.put('ks', r.key, r.value);
          const tasks: StreamTask[] = [
            { ks: 'ks', source: 's1', ranges },
            { ks: 'ks', source: 's2', ranges },
          ];
          let done = false;
          let streamer = new RangeStreamer(deps(w), 'v1', tasks, { bytesPerSec: 1 << 20, pageBytes: 300, retryMs: 50 });
          streamer.start(() => (done = true));
          for (const steps of crashes) {
            w.timers.run(steps);
            if (done) break;
            streamer.stop(); // the receiver crashes; checkpoints survive
            streamer = new RangeStreamer(deps(w), 'v1', tasks, { bytesPerSec: 1 << 20, pageBytes: 300, retryMs: 50 });
            streamer.start(() => (done = true));
          }
          w.timers.run();
          expect(done).toBe(true);
          expect(streamer.progress().done).toBe(true);
          const got = w.target.all('ks');
          expect(got.map((r) => Buffer.from(r.key).toString())).toEqual(expected.all('ks').map((r) => Buffer.from(r.key).toString()));
          for (const r of got) expect(sameVersion(r.value, expected.get('ks', r.key)!)).toBe(true);
        },
      ),
      { numRuns: 25, examples: [[0, [{ start: 0n, end: 0n }], [], 63880055]] },
    );
  });

  it('paces pages to the byte rate', () => {
    const w: World = { timers: new ManualTimers(), sources: new Map([['s1', new MapStore()]]), target: new MapStore(), checkpoints: new Map(), lose: () => false, marks: [] };
    for (let i = 0; i < 200; i++) w.sources.get('s1')!.put('ks', keyOf(i), lww(i + 1, 'x'.repeat(90)));
    const streamer = new RangeStreamer(deps(w), 'v1', [{ ks: 'ks', source: 's1', ranges: [{ start: 0n, end: 0n }] }], { bytesPerSec: 10_000, pageBytes: 1000, retryMs: 50 });
    let doneAt = -1;
    streamer.start(() => (doneAt = w.timers.now));
    w.timers.run();
    const bytes = streamer.progress().bytes;
    expect(bytes).toBeGreaterThan(20_000);
    // bytes / rate seconds at least, less the last page's pause.
    expect(doneAt).toBeGreaterThanOrEqual(((bytes - 1200) / 10_000) * 1000);
    expect(doneAt).toBeLessThan((bytes / 10_000) * 1000 * 1.5 + 500);
  });
});
