#!/usr/bin/env -S node --initial-old-space-size=256
// Entry point: runs the TypeScript CLI, compiled as it loads
// (typescript_hooks.mjs), so no build step is needed. The first line gives
// node the V8 flags a store node runs with (real/node_v8_flags.ts says why).
import { register } from 'node:module';

// A reader that stops early (`ringkv check ... | head`) is not an error.
for (const stream of [process.stdout, process.stderr]) {
  stream.on('error', (err) => {
    if (err.code === 'EPIPE') process.exit(process.exitCode ?? 0);
    throw err;
  });
}

register('./typescript_hooks.mjs', import.meta.url);
// Stack traces point into the TypeScript sources (the compiled code carries inline source maps).
process.setSourceMapsEnabled(true);
const { main } = await import('../real/cli/main.ts');
const code = await main(process.argv.slice(2));
process.exitCode = code;
