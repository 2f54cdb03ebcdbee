import { describe, expect, it } from 'vitest';
import { WIRE_FIELDS } from './messages.ts';
import { type OutgoingRequest, requestWithId } from './peer_rpc.ts';

const REQUEST_TYPES = ['read', 'write', 'scan', 'forward', 'ping', 'stream', 'merkle'] as const;

describe('requestWithId', () => {
  it('copies every wire field of every request type and adds the id, as a spread would', () => {
    for (const t of REQUEST_TYPES) {
      // A distinct marker per field, so a field left out or swapped shows.
      const fields = Object.fromEntries(WIRE_FIELDS[t].map((f, i) => [f, { marker: `${t}.${f}.${i}` }]));
      const request = { t, ...fields } as unknown as OutgoingRequest;
      const message = requestWithId(request, 41);
      expect(message, t).toEqual({ ...request, id: 41 });
      expect(Object.keys(message).sort(), t).toEqual(['id', 't', ...WIRE_FIELDS[t]].sort());
    }
  });
});
