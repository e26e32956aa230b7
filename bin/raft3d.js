#!/usr/bin/env node
// `npx raft3d ...`: the Raft3D command-line client (src/cli). From a clone (after npm ci) it
// runs the TypeScript source through tsx, so what you run is what you read; where only the
// compiled tree exists (the container image), it runs dist/cli/main.js.
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const source = new URL('../src/cli/main.ts', import.meta.url);
const built = new URL('../dist/cli/main.js', import.meta.url);

async function load() {
  if (existsSync(fileURLToPath(source))) {
    try {
      const { register } = await import('tsx/esm/api');
      register();
      return await import(source.href);
    } catch (error) {
      if (!existsSync(fileURLToPath(built))) throw error;
    }
  }
  return import(built.href);
}

const cli = await load();
await cli.main();
