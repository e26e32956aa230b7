// docs/api.md's table of error codes, generated from the error catalogue
// (src/api/errors.ts) so that every code a client can get is documented, with the status
// it comes with. `npx tsx scripts/error-table.ts --write` rewrites the table in place;
// test/api/error-catalogue.test.ts fails while the page and the catalogue differ.

import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { PROBLEMS } from '../src/api/errors.js';
import type { ProblemSpec } from '../src/api/errors.js';

export const API_DOC = fileURLToPath(new URL('../docs/api.md', import.meta.url));
const BEGIN = '<!-- error table: generated from src/api/errors.ts by scripts/error-table.ts -->';
const END = '<!-- end of error table -->';

/** The Markdown table: one row per status (and Retry-After), codes in catalogue order. */
export function renderErrorTable(): string {
  const rows = new Map<string, { status: number; codes: string[] }>();
  for (const [code, spec] of Object.entries(PROBLEMS) as [string, ProblemSpec][]) {
    const label = spec.retry ? `${spec.status} + \`Retry-After\`` : String(spec.status);
    const row = rows.get(label) ?? { status: spec.status, codes: [] };
    row.codes.push(spec.note === undefined ? `\`${code}\`` : `\`${code}\` (${spec.note})`);
    rows.set(label, row);
  }
  const sorted = [...rows].sort(([, a], [, b]) => a.status - b.status);
  return [
    '| status | `code` |',
    '|---|---|',
    ...sorted.map(([label, row]) => `| ${label} | ${row.codes.join(', ')} |`),
  ].join('\n');
}

/** The table as it stands in `page`, or null when the markers are missing. */
export function documentedErrorTable(page: string): string | null {
  const begin = page.indexOf(BEGIN);
  const end = page.indexOf(END);
  if (begin === -1 || end < begin) return null;
  return page.slice(begin + BEGIN.length, end).trim();
}

function write(): void {
  const page = readFileSync(API_DOC, 'utf8');
  if (documentedErrorTable(page) === null) throw new Error(`${API_DOC}: no "${BEGIN}" ... "${END}" markers`);
  const before = page.slice(0, page.indexOf(BEGIN) + BEGIN.length);
  const after = page.slice(page.indexOf(END));
  writeFileSync(API_DOC, `${before}\n${renderErrorTable()}\n${after}`);
}

if (process.argv[1] === fileURLToPath(import.meta.url) && process.argv.includes('--write')) write();
