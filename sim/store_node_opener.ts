// The cluster's node opener for the real thing: core/node.ts's StoreNode.

import { StoreNode } from '../core/node.ts';
import type { NodeOpener } from './cluster.ts';

export const storeNodeOpener: NodeOpener = (env, config, cb) => StoreNode.open(env, config, cb);
