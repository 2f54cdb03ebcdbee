#!/usr/bin/env node
// Entry point: runs the TypeScript CLI through tsx so no build step is needed.
import { register } from 'tsx/esm/api';

register();
const { main } = await import('../real/cli/main.ts');
const code = await main(process.argv.slice(2));
process.exitCode = code;
