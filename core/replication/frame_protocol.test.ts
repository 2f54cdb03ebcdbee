import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { encodeGossipFrame } from '../membership/gossip_messages.ts';
import { encodeWireMessage } from './messages.ts';
import { frameProtocol } from './frame_protocol.ts';

describe('frame protocol sniffing', () => {
  it('tells gossip frames from peer messages', () => {
    expect(frameProtocol(encodeGossipFrame({ t: 'syn', cluster: 'ringkv', digests: [{ nodeId: 'n1', generation: 3, maxVersion: 9 }] }))).toBe('gossip');
    expect(frameProtocol(encodeGossipFrame({ t: 'ack', cluster: 'c', deltas: [], requests: [] }))).toBe('gossip');
    expect(frameProtocol(encodeGossipFrame({ t: 'ack2', cluster: 'c', deltas: [] }))).toBe('gossip');
    expect(frameProtocol(encodeWireMessage({ t: 'ping', id: 7 }))).toBe('rpc');
    expect(frameProtocol(encodeWireMessage({ t: 'read', id: 1, ks: 'default', key: Uint8Array.of(1), hintFor: null }))).toBe('rpc');
  });

  it('never throws on garbage and short frames', () => {
    expect(frameProtocol(new Uint8Array(0))).toBe('rpc');
    expect(frameProtocol(new Uint8Array(10))).toBe('rpc');
    fc.assert(fc.property(fc.uint8Array({ maxLength: 64 }), (bytes) => ['gossip', 'rpc'].includes(frameProtocol(bytes))));
  });

  it('every peer message sniffs as rpc', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 2 ** 40 }), fc.constantFrom('ping', 'pong', 'write_ok'), (id, t) => frameProtocol(encodeWireMessage({ t, id } as never)) === 'rpc'),
    );
  });
});
