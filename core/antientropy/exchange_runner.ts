// The initiating side of one anti-entropy exchange, end to end: the Merkle
// exchange (merkle_exchange.ts) carried over PeerRpc one message per request
// (each answer rides back in the reply), then the differing keys streamed
// both ways. Keys this side lacks or holds differently are fetched with an
// ordinary replica read and merged into the local replica; keys the peer
// lacks or holds differently are pushed as repair writes, which the peer
// merges. Merging never replaces a newer version with an older one, so a
// key differing because this side is behind is fixed by the fetch, and the
// push of the older version is a no-op there.
//
// Every request waits for the byte throttle; every reply or timeout moves
// the exchange on, and a timeout or an abort ends it (the next exchange of
// the range starts over).

import type { NodeId } from '../../io/network.ts';
import { CorruptionError } from '../storage/errors.ts';
import { encodeVersionedValue } from '../versioning/versioned_value.ts';
import type { OutgoingRequest } from '../replication/peer_rpc.ts';
import type { Message } from '../replication/messages.ts';
import type { ReplicaStore } from '../replication/replica_store.ts';
import type { ByteThrottle } from './byte_throttle.ts';
import { MerkleExchange } from './merkle_exchange.ts';
import type { MerkleMessage } from './merkle_messages.ts';
import type { RangeTree } from './range_tree.ts';

export interface ExchangeReport {
  result: 'in_sync' | 'repaired' | 'failed';
  reason: string | null;
  keysReceived: number;
  keysSent: number;
  /** Merkle frames plus streamed keys and values, both ways. */
  bytes: number;
}

export interface RunnerDeps {
  readonly call: (to: NodeId, request: OutgoingRequest, timeoutMs: number, onReply: (reply: Message | null) => void) => void;
  readonly replicas: ReplicaStore;
  readonly throttle: ByteThrottle;
  readonly timeoutMs: number;
  readonly maxKeysPerMessage: number;
  readonly streamInflight: number;
  /** False once the node is closing: nothing more is sent. */
  readonly alive: () => boolean;
  mark(what: string): void;
}

/** Bytes a streamed record costs on the wire, roughly: key, encoded value and a frame's overhead. */
const STREAM_OVERHEAD_BYTES = 32;

export function runExchange(d: RunnerDeps, exchangeId: number, tree: RangeTree, peer: NodeId, done: (r: ExchangeReport) => void): void {
  const ks = tree.keyspace;
  const ex = new MerkleExchange('initiator', { exchange: exchangeId, tree: tree.tree, entries: tree, maxKeysPerMessage: d.maxKeysPerMessage });
  let streamed = 0;
  const report = (result: ExchangeReport['result'], reason: string | null, keysReceived = 0, keysSent = 0): void =>
    done({ result, reason, keysReceived, keysSent, bytes: ex.stats.bytesSent + ex.stats.bytesReceived + streamed });

  const send = (message: MerkleMessage): void => {
    d.throttle.wait(() => {
      if (!d.alive()) return report('failed', 'node closing');
      const before = ex.stats.bytesSent + ex.stats.bytesReceived;
      d.call(peer, { t: 'merkle', ks, body: message }, d.timeoutMs, (reply) => {
        if (!d.alive()) return report('failed', 'node closing');
        if (reply === null || reply.t !== 'merkle_reply') {
          if (!ex.finished) return report('failed', reply === null ? 'peer did not answer' : `unexpected reply ${reply.t}`);
          return afterExchange();
        }
        const out: MerkleMessage[] = [];
        for (const m of reply.body) out.push(...ex.receive(m));
        // The request's bytes and the reply's (both counted by the exchange as it sent and received them).
        d.throttle.spend(ex.stats.bytesSent + ex.stats.bytesReceived - before);
        if (out.length > 0) return send(out[0]!);
        if (!ex.finished) return report('failed', 'the peer left the exchange hanging');
        afterExchange();
      });
    });
  };

  const afterExchange = (): void => {
    if (ex.state !== 'done') return report('failed', ex.failure ?? `exchange ended ${ex.state}`);
    const outcome = ex.outcome();
    if (outcome.keysToReceive.length === 0 && outcome.keysToSend.length === 0) return report('in_sync', null);
    stream(outcome.keysToReceive, outcome.keysToSend);
  };

  const stream = (fetch: Uint8Array[], push: Uint8Array[]): void => {
    const jobs: { kind: 'fetch' | 'push'; key: Uint8Array }[] = [...fetch.map((key) => ({ kind: 'fetch' as const, key })), ...push.map((key) => ({ kind: 'push' as const, key }))];
    let next = 0;
    let inflight = 0;
    let received = 0;
    let sent = 0;
    let finished = false;
    const pump = (): void => {
      if (finished) return;
      if (!d.alive()) {
        finished = true;
        return report('failed', 'node closing', received, sent);
      }
      if (next === jobs.length && inflight === 0) {
        finished = true;
        return report('repaired', null, received, sent);
      }
      while (inflight < d.streamInflight && next < jobs.length) {
        const job = jobs[next++]!;
        inflight++;
        const settle = (bytes: number, ok: boolean, kind: 'fetch' | 'push'): void => {
          streamed += bytes;
          d.throttle.spend(bytes);
          if (ok && kind === 'fetch') received++;
          if (ok && kind === 'push') sent++;
          inflight--;
          d.throttle.wait(pump);
        };
        if (job.kind === 'fetch') fetchKey(job.key, settle);
        else pushKey(job.key, settle);
      }
    };
    pump();
  };

  const fetchKey = (key: Uint8Array, settle: (bytes: number, ok: boolean, kind: 'fetch') => void): void => {
    d.call(peer, { t: 'read', ks, key, hintFor: null }, d.timeoutMs, (reply) => {
      if (reply === null || reply.t !== 'read_ok' || reply.value === null) return settle(key.length + STREAM_OVERHEAD_BYTES, false, 'fetch');
      const bytes = key.length + encodeVersionedValue(reply.value).length + STREAM_OVERHEAD_BYTES;
      if (!d.alive()) return settle(bytes, false, 'fetch');
      d.replicas.apply(
        ks,
        key,
        reply.value,
        (err) => {
          if (err !== null) d.mark('anti-entropy merge failed');
          else d.mark('anti-entropy key received');
          settle(bytes, err === null, 'fetch');
        },
        () => d.mark('corrupt record replaced'),
      );
    });
  };

  const pushKey = (key: Uint8Array, settle: (bytes: number, ok: boolean, kind: 'push') => void): void => {
    let value;
    try {
      value = d.replicas.read(ks, key);
    } catch (err) {
      if (!(err instanceof CorruptionError)) throw err;
      d.mark('anti-entropy read corrupt');
      return settle(0, false, 'push');
    }
    // Gone since the exchange listed it (purged): nothing to send.
    if (value === null) return settle(0, false, 'push');
    const bytes = key.length + encodeVersionedValue(value).length + STREAM_OVERHEAD_BYTES;
    d.call(peer, { t: 'write', ks, key, value, origin: 'repair', hintFor: null }, d.timeoutMs, (reply) => {
      const ok = reply !== null && reply.t === 'write_ok';
      if (ok) d.mark('anti-entropy key sent');
      settle(bytes, ok, 'push');
    });
  };

  send(ex.start()[0]!);
}
