// `npm run build` step: bundles the web console (src/console) into dist/console, so the
// container image serves it without esbuild. From source, nodes bundle it on first request.

import path from 'node:path';
import { writeConsoleBundle } from '../api/index.js';

const root = path.resolve(import.meta.dirname, '..', '..');
await writeConsoleBundle(path.join(root, 'src', 'console'), path.join(root, 'dist', 'console'));
process.stdout.write('console bundled into dist/console\n');
