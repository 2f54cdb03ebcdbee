// The shape every `ringkv` subcommand has. Commands are loaded lazily so that
// `ringkv --help` does not pay for loading the simulator or the engine.

export interface Command {
  name: string;
  /** One line for `ringkv --help`. */
  summary: string;
  /** Full help text for `ringkv NAME --help`. */
  help: string;
  /** Runs the command; resolves to the process exit code. */
  run(args: string[]): Promise<number>;
}

/** Thrown for bad command-line input: printed with the usage, exit code 2. */
export class UsageError extends Error {
  override name = 'UsageError';
}

/**
 * The value of integer flag `--name`, or `fallback` when it is absent. Only
 * decimal digits (with an optional minus) count: `Number()` alone would take
 * ' 5', '0x10' and '1e3'. Outside min..max it is a UsageError that says the
 * range and what was given.
 */
export function integerFlag(
  flags: ReadonlyMap<string, string | true>,
  name: string,
  fallback: number,
  range: { min: number; max?: number; unit?: string },
): number {
  const raw = flags.get(name);
  if (raw === undefined) return fallback;
  const value = typeof raw === 'string' && /^-?[0-9]+$/.test(raw) ? Number(raw) : Number.NaN;
  const max = range.max ?? Number.MAX_SAFE_INTEGER;
  if (!Number.isSafeInteger(value) || value < range.min || value > max) {
    const unit = range.unit === undefined ? '' : ` (${range.unit})`;
    const span = range.max === undefined ? `an integer >= ${range.min}` : `an integer in ${range.min}..${range.max}`;
    throw new UsageError(`--${name} needs ${span}${unit}, got ${JSON.stringify(raw)}`);
  }
  return value;
}

/** Minimal flag parser: `--name value`, `--name=value` and boolean `--flag`. */
export function parseFlags(
  args: string[],
  spec: { booleans?: string[]; strings?: string[] },
): { flags: Map<string, string | true>; positional: string[] } {
  const booleans = new Set(spec.booleans ?? []);
  const strings = new Set(spec.strings ?? []);
  const flags = new Map<string, string | true>();
  const positional: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    if (!arg.startsWith('--')) {
      positional.push(arg);
      continue;
    }
    const eq = arg.indexOf('=');
    const name = eq === -1 ? arg.slice(2) : arg.slice(2, eq);
    if (booleans.has(name)) {
      if (eq !== -1) throw new UsageError(`--${name} takes no value`);
      flags.set(name, true);
    } else if (strings.has(name)) {
      const value = eq === -1 ? args[++i] : arg.slice(eq + 1);
      if (value === undefined || value === '') throw new UsageError(`--${name} needs a value`);
      flags.set(name, value);
    } else {
      throw new UsageError(`unknown option --${name}`);
    }
  }
  return { flags, positional };
}
