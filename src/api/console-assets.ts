// The web console's files, ready to serve: index.html, one script and one stylesheet, each
// minified, gzipped once and named by a hash of its content (so the page can be cached for
// good and the HTML revalidated). `npm run build` bundles them into dist/console/ (what the
// container image serves); running from source (`npm run cluster`, tests) bundles
// src/console/ with esbuild in memory on the first request, so nobody runs a build step.

import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { gzipSync } from 'node:zlib';

export interface ConsoleAsset {
  readonly body: Buffer;
  readonly gzip: Buffer;
  readonly type: string;
  /** Strong validator: a hash of `body`. */
  readonly etag: string;
}

export interface ConsoleAssets {
  readonly index: ConsoleAsset;
  /** By file name as the page asks for it, e.g. `app.3f9c1a2b.js`. */
  readonly files: ReadonlyMap<string, ConsoleAsset>;
}

/** The prebuilt bundle's files (dist/console/), named as the HTML references them before hashing. */
const SCRIPT = 'app.js';
const STYLE = 'app.css';
const INDEX = 'index.html';

/** src/console (sources) or dist/console (built), next to this module's folder. */
const CONSOLE_DIR = path.resolve(import.meta.dirname, '..', 'console');

function asset(body: Buffer, type: string): ConsoleAsset {
  const etag = `"${createHash('sha256').update(body).digest('base64url').slice(0, 22)}"`;
  return { body, gzip: gzipSync(body, { level: 9 }), type, etag };
}

function hashedName(name: string, body: Buffer): string {
  const hash = createHash('sha256').update(body).digest('hex').slice(0, 10);
  const dot = name.lastIndexOf('.');
  return `${name.slice(0, dot)}.${hash}${name.slice(dot)}`;
}

/** Builds the served set from the three files: the HTML is rewritten to the hashed names. */
export function packConsole(html: string, script: Buffer, style: Buffer): ConsoleAssets {
  const scriptName = hashedName(SCRIPT, script);
  const styleName = hashedName(STYLE, style);
  const page = html
    .replace(`/console/${SCRIPT}`, `/console/${scriptName}`)
    .replace(`/console/${STYLE}`, `/console/${styleName}`);
  return {
    index: asset(Buffer.from(page), 'text/html; charset=utf-8'),
    files: new Map([
      [scriptName, asset(script, 'text/javascript; charset=utf-8')],
      [styleName, asset(style, 'text/css; charset=utf-8')],
    ]),
  };
}

/** Bundles src/console with esbuild (a dev dependency): the script and the stylesheet, minified. */
export async function bundleConsole(sourceDir: string): Promise<{ script: Buffer; style: Buffer }> {
  const esbuild = await import('esbuild');
  const result = await esbuild.build({
    entryPoints: { app: path.join(sourceDir, 'main.ts'), style: path.join(sourceDir, 'style.css') },
    bundle: true,
    minify: true,
    format: 'esm',
    target: ['es2022', 'chrome123', 'firefox120', 'safari17.5'],
    write: false,
    outdir: 'out',
    legalComments: 'none',
    logLevel: 'silent',
  });
  const pick = (ext: string): Buffer => {
    const file = result.outputFiles.find((f) => f.path.endsWith(ext));
    if (!file) throw new Error(`esbuild produced no ${ext} file`);
    return Buffer.from(file.contents);
  };
  return { script: pick('.js'), style: pick('.css') };
}

/** Writes the bundle into `outDir` (what `npm run build` ships in dist/console/). */
export async function writeConsoleBundle(sourceDir: string, outDir: string): Promise<void> {
  const { script, style } = await bundleConsole(sourceDir);
  mkdirSync(outDir, { recursive: true });
  writeFileSync(path.join(outDir, SCRIPT), script);
  writeFileSync(path.join(outDir, STYLE), style);
  writeFileSync(path.join(outDir, INDEX), readFileSync(path.join(sourceDir, INDEX)));
}

let loading: Promise<ConsoleAssets> | null = null;

/** The console, loaded once per process: prebuilt files if present, else bundled from source. */
export function loadConsole(dir: string = CONSOLE_DIR): Promise<ConsoleAssets> {
  loading ??= (async () => {
    const html = readFileSync(path.join(dir, INDEX), 'utf8');
    if (existsSync(path.join(dir, SCRIPT)))
      return packConsole(html, readFileSync(path.join(dir, SCRIPT)), readFileSync(path.join(dir, STYLE)));
    const { script, style } = await bundleConsole(dir);
    return packConsole(html, script, style);
  })();
  // A failed load (say, esbuild missing) is retried on the next request.
  loading.catch(() => {
    loading = null;
  });
  return loading;
}
