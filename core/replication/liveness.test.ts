import { describe, expect, it } from 'vitest';
import { ReachabilityView } from './liveness.ts';

describe('reachability view', () => {
  it('marks a peer down after consecutive timeouts and up on any frame', () => {
    const changes: string[] = [];
    const view = new ReachabilityView('self', 2, (node, up) => changes.push(`${node} ${up ? 'up' : 'down'}`));
    view.timedOut('a');
    expect(view.isUp('a')).toBe(true);
    view.heardFrom('a'); // not consecutive any more
    view.timedOut('a');
    expect(view.isUp('a')).toBe(true);
    view.timedOut('a');
    expect(view.isUp('a')).toBe(false);
    view.timedOut('a');
    expect(view.downNodes()).toEqual(['a']);
    view.heardFrom('a');
    expect(view.isUp('a')).toBe(true);
    expect(changes).toEqual(['a down', 'a up']);
    view.timedOut('self');
    view.timedOut('self');
    expect(view.isUp('self')).toBe(true);
  });
});
