import { describe, expect, it } from 'vitest';
import { MemberLiveness, ReachabilityView } from './liveness.ts';

describe('reachability view', () => {
  it('marks a peer down after consecutive timeouts and up on any frame', () => {
    const changes: string[] = [];
    const view = new ReachabilityView('self', 2, (node, up) => changes.push(`${node} ${up ? 'up' : 'down'}`));
    view.timedOut('a', 0);
    expect(view.isUp('a')).toBe(true);
    view.heardFrom('a'); // not consecutive any more
    view.timedOut('a', 0);
    expect(view.isUp('a')).toBe(true);
    view.timedOut('a', 0);
    expect(view.isUp('a')).toBe(false);
    view.timedOut('a', 0);
    expect(view.downNodes()).toEqual(['a']);
    view.heardFrom('a');
    expect(view.isUp('a')).toBe(true);
    expect(changes).toEqual(['a down', 'a up']);
    view.timedOut('self', 0);
    view.timedOut('self', 0);
    expect(view.isUp('self')).toBe(true);
  });

  it('ignores the timeouts of requests sent before the peer came back up', () => {
    let now = 0;
    const view = new ReachabilityView('self', 2, () => {}, () => now);
    view.timedOut('a', 0);
    view.timedOut('a', 10);
    expect(view.isUp('a')).toBe(false);
    now = 500; // the partition heals: a pong arrives
    view.heardFrom('a');
    now = 1000; // requests sent during the partition time out after the heal
    view.timedOut('a', 100);
    view.timedOut('a', 499);
    expect(view.isUp('a')).toBe(true);
    // Requests sent after the heal still count.
    view.timedOut('a', 600);
    view.timedOut('a', 700);
    expect(view.isUp('a')).toBe(false);
  });

  it('cameUp (gossip saw the peer up) clears the down mark and earlier misses', () => {
    let now = 0;
    const changes: string[] = [];
    const view = new ReachabilityView('self', 2, (n, up) => changes.push(`${n} ${up}`), () => now);
    view.timedOut('a', 0);
    view.timedOut('a', 0);
    now = 300;
    view.cameUp('a');
    expect(view.isUp('a')).toBe(true);
    view.timedOut('a', 200);
    view.timedOut('a', 250);
    expect(view.isUp('a')).toBe(true);
    expect(changes).toEqual(['a false', 'a true']);
  });
});

describe('member liveness', () => {
  it('a peer is down when either view says so; the node itself is always up', () => {
    const reach = new ReachabilityView('self', 1);
    const excluded = new Set<string>();
    const live = new MemberLiveness('self', reach, { excludes: (id) => excluded.has(id) });
    expect(live.isUp('a')).toBe(true);
    excluded.add('a');
    expect(live.isUp('a')).toBe(false);
    excluded.delete('a');
    reach.timedOut('a', 0);
    expect(live.isUp('a')).toBe(false);
    reach.heardFrom('a');
    expect(live.isUp('a')).toBe(true);
    excluded.add('self');
    expect(live.isUp('self')).toBe(true);
  });
});
