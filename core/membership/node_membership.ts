// A store node's membership: its Gossiper on the node's shared network, what
// gossip says about each peer (for the node's liveness view), and the
// topology built from the members' gossiped phases and tokens.
//
// - Frames: the node hands over the frames frame_protocol.ts sniffs as
//   gossip; the Gossiper sends through env.net itself. Garbage is counted by
//   the Gossiper and marked here.
// - Generation: the caller persists it (StoreNode keeps it in the engine's
//   meta keys, one above the last on every open) and is told when gossip
//   makes the node refute a newer one ('generationChanged').
// - Opinion (liveness.ts's MembershipOpinion): a peer is excluded while
//   gossip has judged it down after having seen it up (a member never yet
//   seen up is left to the request layer's reachability view: at start gossip
//   knows nobody), and while it gossips that it needs a rebuild.
// - Topology: the configured members have their configured phase ('normal'
//   by default) and tokens until gossip says otherwise; a member gossip knows contributes its
//   gossiped status and tokens (while it has tokens); a member gossip evicted
//   after it left or was removed stays out. A 'normal' member that some
//   known member names in its REMOVING_KEY app state (an operator removes or
//   replaces it: ring_change/ring_phase_driver.ts) is 'leaving'. Rebuilt on
//   every membership event and on refresh() (app states of peers change
//   without an event); the owner is told when the result changes.

import { AssertionError } from '../../io/assert.ts';
import type { Env } from '../../io/env.ts';
import type { NodeId } from '../../io/network.ts';
import type { MembershipOpinion } from '../replication/liveness.ts';
import { type MemberPhase, Topology, type TopologyMember, sameMembers } from '../ring/topology.ts';
import { type GossipEvent, Gossiper } from './gossip.ts';
import type { GossiperOptions } from './gossip_options.ts';
import type { MemberStatus, NodeState } from './member_state.ts';
import { REMOVED_KEY, REMOVING_KEY, RING_PROGRESS_KEY, type RingProgress, decodeRingProgress, encodeRingProgress } from '../ring_change/ring_progress_state.ts';

/** Application state a node gossips while it refuses to serve until rebuilt ('1'), '' otherwise. */
export const REBUILD_APP_KEY = 'rebuild';
/** App state holding a member's peer address (MembershipConfig.address). */
export const PEER_ADDRESS_APP_KEY = 'peer';

export interface MembershipConfig {
  /** Members from the node's configuration (every node starts from the same list). */
  members: readonly { id: string; tokens: readonly bigint[]; phase?: MemberPhase }[];
  seeds: readonly NodeId[];
  generation: number;
  status: MemberStatus;
  /** This node's tokens when they differ from the configured ones (a join or a restart after one); none while it has not picked them. */
  tokens?: readonly bigint[];
  /** The dead member this node is removing or replacing, if any. */
  removing?: NodeId | null;
  /** Dead members this node removed before (it keeps gossiping them removed). */
  removed?: readonly NodeId[];
  needsRebuild: boolean;
  /** This node's peer address, gossiped so that nodes not configured with it can reach it. */
  address?: string;
  gossip?: Partial<Pick<GossiperOptions, 'intervalMs' | 'fanout' | 'phiThreshold' | 'detector' | 'clusterName' | 'evictAfterMs'>>;
}

/** One member as this node sees it, for operators (/admin/status). */
export interface MemberView {
  id: NodeId;
  /** Gossiped status, 'down' while gossip suspects it; 'unknown' before gossip has heard of it. */
  state: NodeState | 'unknown';
  generation: number | null;
  heartbeat: number | null;
  phi: number;
  /** It gossips that it refuses to serve until rebuilt. */
  needsRebuild: boolean;
  tokens: number;
  /** The peer address it gossips; null when none is known. */
  address: string | null;
}

export class NodeMembership implements MembershipOpinion {
  readonly gossiper: Gossiper;
  private readonly judgedDown = new Set<NodeId>();
  /** Members gossip forgot after they left or were removed: they stay out of the topology. */
  private readonly gone = new Set<NodeId>();
  private current: Topology;
  private lastRejected = 0;
  /** The members the current topology was last checked against. */
  private lastMembers: readonly TopologyMember[] = [];
  /** Gossiper.stateChanges when the members were last built: equal, and nothing they come from has changed. */
  private builtAtChange = -1;

  constructor(
    private readonly env: Env,
    private readonly config: MembershipConfig,
    private readonly hooks: {
      onTopology: (topology: Topology) => void;
      /** A peer came (back) up by gossip: the request layer should retry it now. */
      onUp: (nodeId: NodeId) => void;
      onGeneration: (generation: number) => void;
      mark: (what: string) => void;
    },
  ) {
    const self = config.members.find((m) => m.id === env.nodeId);
    if (!(self !== undefined || config.tokens !== undefined || config.status === 'joining')) throw new AssertionError(`node ${env.nodeId} is not among the members`);
    this.gossiper = new Gossiper(env, {
      ...config.gossip,
      generation: config.generation,
      seeds: config.seeds,
      status: config.status,
      tokens: config.tokens ?? self?.tokens ?? [],
      appStates: new Map([
        [REBUILD_APP_KEY, config.needsRebuild ? '1' : ''],
        [REMOVING_KEY, config.removing ?? ''],
        [REMOVED_KEY, (config.removed ?? []).join(',')],
        ...(config.address !== undefined ? ([[PEER_ADDRESS_APP_KEY, config.address]] as const) : []),
      ]),
      send: (to, frame) => env.net.send(to, frame),
    });
    this.current = this.build();
    this.gossiper.onChange((e) => this.onEvent(e));
  }

  start(): void {
    this.gossiper.start();
  }

  stop(): void {
    this.gossiper.stop();
  }

  /** A frame sniffed as gossip. */
  receive(from: NodeId, frame: Uint8Array): void {
    if (this.gossiper.handleFrame(from, frame)) return;
    const rejected = this.gossiper.stats().rejectedFrames;
    if (rejected > this.lastRejected) this.hooks.mark('garbage gossip frame dropped');
    this.lastRejected = rejected;
  }

  excludes(nodeId: NodeId): boolean {
    if (this.judgedDown.has(nodeId)) return true;
    return this.gossiper.member(nodeId)?.appState(REBUILD_APP_KEY) === '1';
  }

  get topology(): Topology {
    return this.current;
  }

  setNeedsRebuild(needed: boolean): void {
    this.gossiper.setAppState(REBUILD_APP_KEY, needed ? '1' : '');
  }

  setStatus(status: MemberStatus): void {
    this.gossiper.setStatus(status);
  }

  setTokens(tokens: readonly bigint[]): void {
    this.gossiper.setTokens(tokens);
  }

  /** Rebuilds the topology from what gossip knows now (peers' app states change without an event). */
  refresh(): void {
    this.rebuildTopology();
  }

  /** Names the dead member this node removes or replaces (null: none); peers then see it 'leaving'. */
  setRemoving(dead: NodeId | null): void {
    this.gossiper.setAppState(REMOVING_KEY, dead ?? '');
    this.rebuildTopology();
  }

  /** Dead members some known member names as being removed, sorted. */
  removing(): NodeId[] {
    const named = new Set<NodeId>();
    for (const id of this.gossiper.knownNodes()) {
      const state = this.gossiper.member(id)!;
      const dead = state.appState(REMOVING_KEY);
      if (dead !== undefined && dead !== '' && !isGone(state.status)) named.add(dead);
    }
    return [...named].sort();
  }

  /**
   * Gossips a dead member 'removed': by gossip's removal state when gossip
   * knows it, and in this node's REMOVED_KEY list either way. False if it is
   * believed up.
   */
  removeMember(dead: NodeId): boolean {
    if (dead === this.env.nodeId || this.gossiper.isUp(dead)) return false;
    this.gossiper.removeMember(dead);
    const mine = this.gossiper.localState.appState(REMOVED_KEY) ?? '';
    const list = mine === '' ? [] : mine.split(',');
    if (!list.includes(dead)) this.gossiper.setAppState(REMOVED_KEY, [...list, dead].sort().join(','));
    this.rebuildTopology();
    return true;
  }

  /** Members some known member lists as removed. */
  private removedByPeers(): Set<NodeId> {
    const out = new Set<NodeId>();
    for (const id of this.gossiper.knownNodes()) {
      const list = this.gossiper.member(id)!.appState(REMOVED_KEY);
      if (list !== undefined && list !== '') for (const dead of list.split(',')) out.add(dead);
    }
    return out;
  }

  /** Members gossip believes up, this node excluded. */
  livePeers(): NodeId[] {
    return this.gossiper.liveMembers();
  }

  publishProgress(progress: RingProgress): void {
    this.gossiper.setAppState(RING_PROGRESS_KEY, encodeRingProgress(progress));
  }

  progressOf(id: NodeId): RingProgress | null {
    return decodeRingProgress(this.gossiper.member(id)?.appState(RING_PROGRESS_KEY));
  }

  phi(nodeId: NodeId): number {
    return nodeId === this.env.nodeId ? 0 : this.gossiper.phi(nodeId);
  }

  /** Every member configured or heard of, sorted by id. */
  memberStates(): MemberView[] {
    const ids = new Set<NodeId>([...this.config.members.map((m) => m.id), ...this.gossiper.knownNodes()]);
    return [...ids].sort().map((id): MemberView => {
      const m = this.gossiper.member(id);
      return {
        id,
        state: this.gossiper.stateOf(id) ?? 'unknown',
        generation: m?.generation ?? null,
        heartbeat: m?.heartbeat ?? null,
        phi: this.phi(id),
        needsRebuild: m?.appState(REBUILD_APP_KEY) === '1',
        tokens: m?.tokens.length ?? this.config.members.find((c) => c.id === id)?.tokens.length ?? 0,
        address: m?.appState(PEER_ADDRESS_APP_KEY) || null,
      };
    });
  }

  private onEvent(e: GossipEvent): void {
    switch (e.type) {
      case 'down':
        this.judgedDown.add(e.nodeId);
        this.hooks.mark('gossip: peer down');
        return;
      case 'up':
        this.judgedDown.delete(e.nodeId);
        this.hooks.mark('gossip: peer up');
        this.hooks.onUp(e.nodeId);
        return;
      case 'generationChanged':
        this.hooks.onGeneration(e.generation);
        return;
      case 'evicted':
        this.judgedDown.delete(e.nodeId);
        this.gone.add(e.nodeId);
        break;
      case 'joined':
      case 'restarted':
        this.gone.delete(e.nodeId);
        break;
      case 'statusChanged':
      case 'tokensChanged':
        break;
    }
    this.rebuildTopology();
  }

  private rebuildTopology(): void {
    // Most calls (every background tick, every event) find nothing changed since the last build.
    const changes = this.gossiper.stateChanges;
    if (changes === this.builtAtChange) return;
    this.builtAtChange = changes;
    const members = this.buildMembers();
    // Often the same members as last time (an event that changed nothing
    // they show, such as a member joining with its configured tokens).
    if (sameMembers(members, this.lastMembers)) return;
    this.lastMembers = members;
    // Topology.of shares a recent equal topology without hashing or building rings.
    const next = Topology.of(members);
    if (next.version === this.current.version) return;
    this.current = next;
    this.hooks.mark('topology changed');
    this.hooks.onTopology(next);
  }

  /** The first topology; the members it came from are what later rebuilds compare against. */
  private build(): Topology {
    this.lastMembers = this.buildMembers();
    this.builtAtChange = this.gossiper.stateChanges;
    return Topology.of(this.lastMembers);
  }

  private buildMembers(): TopologyMember[] {
    const members = new Map<string, TopologyMember>();
    for (const m of this.config.members) if (!this.gone.has(m.id)) members.set(m.id, { id: m.id, phase: m.phase ?? 'normal', tokens: m.tokens });
    for (const id of this.gossiper.knownNodes()) {
      const state = this.gossiper.member(id)!;
      if (state.tokens.length === 0 && !isGone(state.status)) continue; // not placed yet
      members.set(id, { id, phase: state.status as MemberPhase, tokens: state.tokens.length > 0 ? state.tokens : (members.get(id)?.tokens ?? []) });
    }
    for (const dead of this.removing()) {
      const m = members.get(dead);
      if (m !== undefined && m.phase === 'normal') members.set(dead, { ...m, phase: 'leaving' });
    }
    for (const dead of this.removedByPeers()) {
      const m = members.get(dead);
      if (m !== undefined && dead !== this.env.nodeId && !isGone(m.phase)) members.set(dead, { ...m, phase: 'removed' });
    }
    return [...members.values()];
  }
}

const isGone = (s: MemberStatus): boolean => s === 'left' || s === 'removed';
