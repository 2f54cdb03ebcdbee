// Module hooks (node:module register) that compile ringkv's TypeScript
// sources with esbuild as they load, so the CLI, the node processes and the
// benchmarks run from the tree with no build step.
//
// Why not tsx's loader, which the tests' child processes still use: tsx
// compiles with esbuild's keepNames, which wraps every named closure in a
// call that defines its `name` property each time the closure is created.
// The request path creates closures per message, and those calls were 3-4%
// of the simulator's CPU. Names in stack traces come from the source maps.
//
// Only `.ts` files are compiled (imports name them with their extension);
// everything else loads as Node loads it.

import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { transform } from 'esbuild';

// What tsconfig.json says that changes emitted code (class fields are defined, as in ES2022).
const TSCONFIG = { compilerOptions: { target: 'ES2022', useDefineForClassFields: true } };

export async function load(url, context, nextLoad) {
  if (!url.startsWith('file:') || !url.endsWith('.ts')) return nextLoad(url, context);
  const file = fileURLToPath(url);
  const source = await readFile(file, 'utf8');
  const out = await transform(source, { loader: 'ts', format: 'esm', target: 'node20', sourcemap: 'inline', sourcefile: file, tsconfigRaw: TSCONFIG });
  return { format: 'module', source: out.code, shortCircuit: true };
}
