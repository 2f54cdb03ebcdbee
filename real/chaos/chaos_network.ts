// The network a chaos cluster runs on, and the faults it can inject there.
// Two implementations: network namespaces joined by a bridge (netns_network.ts,
// when running as root with `ip netns`), or loopback ports with a cuttable TCP
// proxy per directed peer link (loopback_network.ts). `openChaosNetwork`
// decides per environment.

export type NetworkMode = 'netns' | 'loopback';

export interface ChaosNetwork {
  readonly mode: NetworkMode;
  readonly nodeIds: readonly string[];
  /** Where the test's clients reach a node's HTTP API, e.g. http://10.213.7.1:8001. */
  httpUrl(id: string): string;
  /** The `http` and `peer` listen addresses of a node's config. */
  listen(id: string): { http: { host: string; port: number }; peer: { host: string; port: number } };
  /** The member list of a node's config: every node with the peer address this node dials. */
  membersFor(id: string): Array<{ id: string; address: string }>;
  /** The command that runs `argv` (node, script, args) as node `id` (inside its namespace, if any). */
  command(id: string, argv: string[]): { file: string; args: string[] };
  /**
   * Cuts the network into `groups`: nodes in different groups cannot reach
   * each other; clients still reach every node. Replaces any earlier partition.
   */
  partition(groups: string[][]): Promise<void>;
  /** Cuts a node off from everything, clients included (netns: its link down); loopback: like isolating it. */
  unplug(id: string): Promise<void>;
  /** Every node reaches every node again. */
  heal(): Promise<void>;
  /** Tears everything down; safe to call more than once and after a failure. */
  close(): Promise<void>;
  /** How many partition and unplug changes were applied. */
  readonly changes: number;
}

/** Every pair of nodes that `groups` separates (each unordered pair once, a < b in `ids` order). */
export function separatedPairs(ids: readonly string[], groups: string[][]): Array<[string, string]> {
  const groupOf = new Map<string, number>();
  groups.forEach((g, i) => g.forEach((id) => groupOf.set(id, i)));
  const pairs: Array<[string, string]> = [];
  for (let i = 0; i < ids.length; i++) {
    for (let j = i + 1; j < ids.length; j++) {
      const a = ids[i]!;
      const b = ids[j]!;
      // A node named in no group is in a group of its own.
      if ((groupOf.get(a) ?? -1 - i) !== (groupOf.get(b) ?? -1 - j)) pairs.push([a, b]);
    }
  }
  return pairs;
}
