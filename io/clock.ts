// Time enters core/ only through Clock. Two readings, as in TigerBeetle's Time:
// a monotonic one for timeouts and intervals, and a wall one (which may jump,
// skew and drift) for hybrid logical clocks and TTLs.

export interface Clock {
  /** Milliseconds since an arbitrary origin; never decreases. */
  monotonicMs(): number;
  /** Milliseconds since the Unix epoch as this node believes it; may jump. */
  wallMs(): number;
}
