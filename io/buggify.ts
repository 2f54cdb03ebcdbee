// FoundationDB-style fault injection inside the code under test: a call site
// asks `buggify('site name')` and, only when the simulator has switched it on
// for this seed, takes a rarely exercised path (a short write, an early
// timeout, a tiny compaction step). In the real runtime it is always false.

export type Buggify = (site: string) => boolean;

export const buggifyOff: Buggify = () => false;
