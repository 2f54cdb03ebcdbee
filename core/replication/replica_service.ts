// The replica side of the protocol: what a node does with requests from
// coordinators (itself included). Reads answer from acknowledged data only;
// writes answer once durable. A fallback keeps a write for a down home
// replica as a hint and answers reads for that replica from the hint.
//
// A client write (origin 'client' or 'strong') carries its coordinator's HLC
// timestamp; the replica folds it into its own HLC and refuses the write if
// it lies further ahead of the local wall clock than the skew bound: a
// coordinator whose clock runs fast would otherwise plant versions that
// outrank every correctly-clocked write to the key for as long as it is
// ahead. Repairs and hints carry old versions and are never refused.

import type { NodeId } from '../../io/network.ts';
import { decodeRanges, readRangePage } from '../ring_change/range_pages.ts';
import { CorruptionError } from '../storage/errors.ts';
import { ConflictModeMismatchError } from '../versioning/errors.ts';
import type { HybridLogicalClock } from '../versioning/hlc.ts';
import type { VersionedValue } from '../versioning/versioned_value.ts';
import { HintLimitError, type HintQueue } from './hint_queue.ts';
import type { KeyspaceRegistry } from './keyspace.ts';
import type { ForwardedWrite, Message } from './messages.ts';
import type { ReplyTo } from './peer_rpc.ts';
import type { ReplicaStore } from './replica_store.ts';
import type { ErrorCode, WriteResponse } from './requests.ts';
import { newestHlc } from './version_builders.ts';

export interface ReplicaServiceDeps {
  readonly self: NodeId;
  readonly keyspaces: KeyspaceRegistry;
  readonly replicas: ReplicaStore;
  readonly hints: HintQueue;
  readonly hlc: HybridLogicalClock;
  /** Whether this replica still holds every write it acknowledged (replica_completeness.ts). */
  readonly completeness: { readonly complete: boolean };
  /** Coordinates a relayed siblings-mode write (coordinator.ts). */
  readonly coordinateForwarded: (f: ForwardedWrite, cb: (res: WriteResponse) => void) => void;
  readonly scan: (request: Extract<Message, { t: 'scan' }>, reply: ReplyTo) => void;
  mark(what: string): void;
}

export class ReplicaService {
  /** Called when a write replaced a corrupt record (one function for every write, not a closure each). */
  private readonly corruptReplaced: () => void;

  constructor(private readonly d: ReplicaServiceDeps) {
    this.corruptReplaced = () => d.mark('corrupt record replaced');
  }

  handle(from: NodeId, request: Extract<Message, { t: 'read' | 'write' | 'scan' | 'forward' | 'ping' | 'stream' }>, reply: ReplyTo): void {
    switch (request.t) {
      case 'ping':
        return reply({ t: 'pong', id: request.id });
      case 'read': {
        if (this.d.keyspaces.get(request.ks) === undefined) return fail(reply, request.id, 'not_found_keyspace', `keyspace ${request.ks} unknown at ${this.d.self}`, true);
        let value: VersionedValue | null;
        try {
          value = request.hintFor !== null ? this.d.hints.read(request.ks, request.key, request.hintFor) : this.d.replicas.read(request.ks, request.key);
        } catch (err) {
          if (!(err instanceof CorruptionError)) throw err;
          this.d.mark('replica read corrupt');
          return fail(reply, request.id, 'corruption', `${this.d.self}: ${err.message}`, false);
        }
        return reply({ t: 'read_ok', id: request.id, value, complete: this.d.completeness.complete });
      }
      case 'write':
        return this.write(from, request, reply);
      case 'scan':
        if (this.d.keyspaces.get(request.ks) === undefined) return fail(reply, request.id, 'not_found_keyspace', `keyspace ${request.ks} unknown at ${this.d.self}`, true);
        return this.d.scan(request, reply);
      case 'stream': {
        if (this.d.keyspaces.get(request.ks) === undefined) return fail(reply, request.id, 'not_found_keyspace', `keyspace ${request.ks} unknown at ${this.d.self}`, true);
        try {
          const page = readRangePage((ks, start, end, limit) => this.d.replicas.scan(ks, start, end, limit, false), request.ks, decodeRanges(request.ranges)!, request.after, request.maxBytes);
          this.d.mark('range stream page served');
          return reply({ t: 'stream_ok', id: request.id, items: page.items, next: page.next });
        } catch (err) {
          if (!(err instanceof CorruptionError)) throw err;
          this.d.mark('replica scan corrupt');
          return fail(reply, request.id, 'corruption', `${this.d.self}: ${err.message}`, false);
        }
      }
      case 'forward': {
        const { t: _t, id, ...forwarded } = request;
        return this.d.coordinateForwarded(forwarded, (res) =>
          reply(
            res.ok
              ? { t: 'forward_reply', id, ok: true }
              : {
                  t: 'forward_reply',
                  id,
                  ok: false,
                  code: res.error.code,
                  message: res.error.message,
                  definite: res.error.definite,
                  replied: res.error.replied ?? null,
                  required: res.error.required ?? null,
                },
          ),
        );
      }
    }
  }

  private write(
    from: NodeId,
    request: Extract<Message, { t: 'write' }>,
    reply: ReplyTo,
  ): void {
    const ks = this.d.keyspaces.get(request.ks);
    if (ks === undefined) return fail(reply, request.id, 'not_found_keyspace', `keyspace ${request.ks} unknown at ${this.d.self}`, true);
    if (request.value.mode !== ks.conflictMode) return fail(reply, request.id, 'invalid', `${request.value.mode} version for ${ks.conflictMode} keyspace ${ks.name}`, true);
    // A timestamp from this node's own clock is not checked against it.
    if ((request.origin === 'client' || request.origin === 'strong') && from !== this.d.self) {
      const newest = newestHlc(request.value);
      if (newest !== null) {
        const received = this.d.hlc.update(newest);
        if (!received.accepted) {
          this.d.mark('write refused: timestamp too far ahead');
          return fail(reply, request.id, 'invalid', `${this.d.self}: write timestamp ${received.aheadByMs} ms ahead of the local clock (bound ${this.d.hlc.maxSkewMs} ms)`, true);
        }
      }
    }
    const done = (err: Error | null): void => {
      if (err === null) return reply({ t: 'write_ok', id: request.id });
      if (err instanceof HintLimitError) {
        this.d.mark('hint refused: target full');
        return fail(reply, request.id, 'overloaded', `${this.d.self}: ${err.message}`, true);
      }
      if (err instanceof ConflictModeMismatchError) return fail(reply, request.id, 'invalid', `${this.d.self}: ${err.message}`, true);
      this.d.mark('replica write failed');
      fail(reply, request.id, 'internal', `${this.d.self}: write failed: ${err.message}`, false);
    };
    if (request.hintFor !== null) {
      if (request.hintFor === this.d.self) return fail(reply, request.id, 'invalid', 'a hint addressed to its own target', true);
      this.d.hints.store(request.ks, request.key, request.hintFor, request.value, (err) => {
        if (err === null) this.d.mark('hint stored');
        done(err);
      });
      return;
    }
    if (request.origin === 'hint') this.d.mark('hint received');
    this.d.replicas.apply(request.ks, request.key, request.value, done, this.corruptReplaced);
  }
}

function fail(reply: ReplyTo, id: number, code: ErrorCode, message: string, definite: boolean): void {
  reply({ t: 'fail', id, code, message, definite });
}
