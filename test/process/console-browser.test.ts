// The web console in a real browser (Debian's chromium driven by playwright-core) against
// three real node processes: a printer, a spool and a job added through the forms (and an
// API validation message shown inline), the job moved to Done with the only buttons the
// state machine allows, the spool bar dropping; then the leader the page was loaded from is
// killed -9 and the page marks the new leader without a reload. RAFT3D_SCREENSHOTS=1 saves
// both views to docs/img/ (otherwise to a temp dir). Skips, saying why, without chromium.

import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import test from 'ava';
import type { BrowserContext, Page } from 'playwright-core';
import { chromium } from 'playwright-core';
import { ProcessCluster } from '../helpers/process-cluster.js';

const CHROMIUM = '/usr/bin/chromium';
const FLAGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];
const SHOTS =
  process.env['RAFT3D_SCREENSHOTS'] === '1'
    ? path.resolve(import.meta.dirname, '..', '..', 'docs', 'img')
    : path.join(os.tmpdir(), 'raft3d-console-shots');

async function open(t: { teardown(fn: () => Promise<void> | void): void }): Promise<BrowserContext> {
  const profile = mkdtempSync(path.join(os.tmpdir(), 'raft3d-chromium-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    args: FLAGS,
    viewport: { width: 1280, height: 860 },
  });
  t.teardown(async () => {
    await context.close();
    rmSync(profile, { recursive: true, force: true });
  });
  return context;
}

async function submit(page: Page, form: string, fields: Record<string, string>): Promise<void> {
  for (const [label, value] of Object.entries(fields)) {
    const field = page.locator(`${form}`).getByLabel(label, { exact: false }).first();
    if ((await field.evaluate((el) => el.tagName)) === 'SELECT') await field.selectOption(value);
    else await field.fill(value);
  }
  await page.locator(`${form} button[type=submit]`).click();
}

if (!existsSync(CHROMIUM)) {
  test.skip(`console in a real browser: SKIPPED, ${CHROMIUM} is not installed (bash scripts/install-browser.sh installs it)`, () => {});
} else {
  test('the console drives the shop through its forms and follows a kill -9 failover without a reload', async (t) => {
    // The tick of `npm run cluster` (50 ms, elections after 500-1000 ms): the failover time is the real one.
    const cluster = await ProcessCluster.start({ size: 3, tickMs: 50 });
    t.teardown(() => cluster.stop());
    const leader = await cluster.waitForLeader(20_000);
    const context = await open(t);
    const page = await context.newPage();
    const errors: string[] = [];
    page.on('pageerror', (error) => errors.push(error.message));

    const started = Date.now();
    await page.goto(`${leader.url}/#shop`);
    await page.locator('#shop-connection[data-state=live]').waitFor();
    t.log(`shop view live ${Date.now() - started} ms after navigation`);
    const timing = await page.evaluate(() => {
      const perf = (globalThis as any).performance;
      const nav = perf.getEntriesByType('navigation')[0];
      const files = perf.getEntriesByType('resource').filter((r: any) => /\/console\//.test(r.name));
      return {
        domContentLoaded: Math.round(nav.domContentLoadedEventEnd),
        load: Math.round(nav.loadEventEnd),
        bytes: nav.transferSize + files.reduce((sum: number, r: any) => sum + r.transferSize, 0),
      };
    });
    t.log(
      `page: DOMContentLoaded ${timing.domContentLoaded} ms, load ${timing.load} ms, ${timing.bytes} bytes over the wire (gzip, headers included)`,
    );

    await submit(page, '#form-printer', { Id: 'p1', Company: 'Prusa', Model: 'MK4' });
    await page.locator('[data-printer=p1]').waitFor();

    // The API's own message, next to the field it names.
    await submit(page, '#form-spool', { Id: 'f1', Colour: 'red' });
    await t.notThrowsAsync(
      page.locator('#spool-total-error', { hasText: 'must be an integer number of grams' }).waitFor(),
    );
    t.is(await page.locator('#spool-total').getAttribute('aria-invalid'), 'true');
    await submit(page, '#form-spool', { Id: 'f1', Type: 'PLA', Colour: 'red', 'Total grams': '1000' });
    const bar = page.locator('[data-spool=f1] [role=meter]');
    await page.locator('[data-spool=f1] [role=meter][data-remaining="1000"]').waitFor();

    await submit(page, '#form-job', {
      Id: 'j1',
      Printer: 'p1',
      Spool: 'f1',
      File: 'prints/sword/hilt.gcode',
      'Weight in grams': '120',
    });
    const job = page.locator('[data-job=j1]');
    await page.locator('[data-job=j1][data-status=Queued]').waitFor();
    t.deepEqual(await job.getByRole('button').allInnerTexts(), ['Start', 'Cancel']);
    await page.locator('[data-spool=f1] .n-reserved', { hasText: '120 g reserved' }).waitFor();

    await job.getByRole('button', { name: 'Start job j1' }).click();
    await page.locator('[data-job=j1][data-status=Running]').waitFor();
    t.deepEqual(await page.locator('[data-job=j1]').getByRole('button').allInnerTexts(), ['Done', 'Cancel']);
    await page.locator('[data-job=j1]').getByRole('button', { name: 'Done job j1' }).click();
    await page.locator('[data-job=j1][data-status=Done]').waitFor();
    t.is(await page.locator('[data-job=j1]').getByRole('button').count(), 0, 'Done is final: no buttons');
    await page.locator('[data-spool=f1] [role=meter][data-remaining="880"]').waitFor();
    t.is(await bar.getAttribute('aria-valuenow'), '880');
    await submit(page, '#form-job', { Id: 'j2', File: 'prints/sword/blade.gcode', 'Weight in grams': '300' });
    await page.locator('[data-spool=f1] .n-available', { hasText: '580 g available' }).waitFor();
    mkdirSync(SHOTS, { recursive: true });
    await page.screenshot({ path: path.join(SHOTS, 'console-shop.png'), fullPage: true });

    await page.goto(`${leader.url}/#cluster`);
    const summary = page.locator('#cluster-summary');
    await page.locator(`#cluster-summary[data-leader="${leader.id}"]`).waitFor();
    await page.locator('[data-member] .badge', { hasText: 'follower' }).nth(1).waitFor();

    const killedAt = Date.now();
    await cluster.kill(leader.id);
    // A function, not a string: the page's CSP refuses to evaluate strings.
    await page.waitForFunction(
      (old: string) => {
        const now = (globalThis as any).document.getElementById('cluster-summary')?.dataset.leader;
        return now !== undefined && now !== '' && now !== old;
      },
      leader.id,
      { timeout: 20_000, polling: 'raf' },
    );
    const shownAfter = Date.now() - killedAt;
    const newLeader = await summary.getAttribute('data-leader');
    t.log(`console marked ${newLeader} as leader ${shownAfter} ms after kill -9 of ${leader.id}`);
    t.not(newLeader, leader.id);
    await page.locator(`[data-member="${leader.id}"][data-role=down]`).waitFor();
    await page.locator('.tl-leader', { hasText: `${newLeader} became leader` }).waitFor();
    await page.screenshot({ path: path.join(SHOTS, 'console-cluster.png'), fullPage: true });
    t.deepEqual(errors, []);
  });
}
