import test from 'ava';
import { PrintShop } from '../../src/fsm/index.js';
import type { PrintJobView } from '../../src/fsm/index.js';
import { T0, filament, job, mustFail, mustOk, printer, shopWith, status, text } from './helpers.js';

const key = (k: string, fingerprint = 'fp-1') => ({ idempotency: { key: k, fingerprint } });

test('a retry with the same key and fingerprint replays the first result and changes nothing', (t) => {
  const shop = shopWith();
  const first = shop.apply(job('j1', 'p1', 'f1', 100, key('k1')));
  t.true(first.ok);
  t.is(first.ok && first.replayed, undefined);
  mustOk(shop.apply(status('j1', 'Running', { at: T0 + 10 })));
  const before = text(shop.snapshot());
  // The retry carries a fresh id and time (the proposer chose them again): still a replay.
  const retry = shop.apply(job('j-other', 'p1', 'f1', 100, { at: T0 + 20, ...key('k1') }));
  t.true(retry.ok && retry.replayed === true);
  t.deepEqual(retry.ok && retry.value, first.ok && first.value);
  t.is(
    (retry.ok && (retry.value as PrintJobView).status) || '',
    'Queued',
    'the stored first result, not the current state',
  );
  t.is(text(shop.snapshot()), before);
  t.is(shop.getPrintJob('j-other'), undefined);
  t.is(shop.getFilament('f1')!.reserved_weight_in_grams, 100);
});

test('the same key with a different fingerprint is idempotency_key_reused and changes nothing', (t) => {
  const shop = shopWith();
  mustOk(shop.apply(job('j1', 'p1', 'f1', 100, key('k1', 'fp-a'))));
  const before = text(shop.snapshot());
  const error = mustFail(shop.apply(job('j2', 'p1', 'f1', 100, key('k1', 'fp-b'))));
  t.is(error.code, 'idempotency_key_reused');
  t.is(text(shop.snapshot()), before);
});

test('keys are shared by all command types', (t) => {
  const shop = new PrintShop();
  mustOk(shop.apply(printer('p1', key('k', 'printer-request'))));
  t.is(
    mustFail(shop.apply(filament('f1', 10, 10, key('k', 'filament-request')))).code,
    'idempotency_key_reused',
  );
});

test('a refused command does not record its key, so a corrected retry can succeed', (t) => {
  const shop = new PrintShop();
  t.is(mustFail(shop.apply(job('j1', 'p1', 'f1', 10, key('k')))).code, 'printer_not_found');
  t.is(shop.counts().idempotency_keys, 0);
  mustOk(shop.apply(printer('p1')));
  mustOk(shop.apply(filament('f1', 100)));
  const result = shop.apply(job('j1', 'p1', 'f1', 10, key('k')));
  t.true(result.ok);
  t.is(result.ok && result.replayed, undefined);
  t.is(shop.counts().idempotency_keys, 1);
});

test('a key is forgotten once it is older than the time-to-live, measured on command time', (t) => {
  const shop = new PrintShop({ idempotency: { ttlMs: 1000 } });
  mustOk(shop.apply(printer('p1', { at: T0, ...key('k', 'a') })));
  // 999 ms later the key is alive: a different fingerprint is refused.
  t.is(
    mustFail(shop.apply(printer('p2', { at: T0 + 999, ...key('k', 'b') }))).code,
    'idempotency_key_reused',
  );
  // 1000 ms later it has expired: the key is free for a new request.
  const fresh = shop.apply(printer('p2', { at: T0 + 1000, ...key('k', 'b') }));
  t.true(fresh.ok && fresh.replayed === undefined);
  t.deepEqual(
    shop.listPrinters().map((p) => p.id),
    ['p1', 'p2'],
  );
  t.is(shop.counts().idempotency_keys, 1);
});

test('expired keys are evicted when a new key is recorded', (t) => {
  const shop = new PrintShop({ idempotency: { ttlMs: 1000 } });
  mustOk(shop.apply(printer('a', { at: T0, ...key('ka') })));
  mustOk(shop.apply(printer('b', { at: T0 + 500, ...key('kb') })));
  mustOk(shop.apply(printer('c', { at: T0 + 1200, ...key('kc') })));
  t.is(shop.counts().idempotency_keys, 2, 'ka expired and was dropped');
  mustOk(shop.apply(printer('d', { at: T0 + 1600, ...key('kd') })));
  t.is(shop.counts().idempotency_keys, 2, 'kb expired and was dropped');
});

test('the table holds at most maxEntries keys, evicting the oldest first', (t) => {
  const shop = new PrintShop({ idempotency: { maxEntries: 3 } });
  for (const id of ['a', 'b', 'c', 'd']) mustOk(shop.apply(printer(id, key(`k-${id}`))));
  t.is(shop.counts().idempotency_keys, 3);
  // k-a was evicted: reusing it with another fingerprint is now a fresh request.
  const reuse = shop.apply(printer('e', key('k-a', 'other')));
  t.true(reuse.ok && reuse.replayed === undefined);
  // k-b was evicted by that insert; k-c is still there.
  t.true(shop.apply(printer('f', key('k-b', 'other'))).ok);
  t.is(mustFail(shop.apply(printer('g', key('k-d', 'other')))).code, 'idempotency_key_reused');
  t.deepEqual(
    shop.listPrinters().map((p) => p.id),
    ['a', 'b', 'c', 'd', 'e', 'f'],
  );
});

test('a null idempotency field means no key', (t) => {
  const shop = new PrintShop();
  mustOk(shop.apply({ ...printer('p1'), idempotency: null }));
  t.is(shop.counts().idempotency_keys, 0);
});

test('the idempotency table survives snapshot and restore', (t) => {
  const shop = shopWith();
  mustOk(shop.apply(job('j1', 'p1', 'f1', 100, key('k1'))));
  const copy = new PrintShop();
  copy.restore(shop.snapshot());
  const replay = copy.apply(job('j9', 'p1', 'f1', 100, key('k1')));
  t.true(replay.ok && replay.replayed === true);
  t.is(mustFail(copy.apply(job('j9', 'p1', 'f1', 100, key('k1', 'fp-2')))).code, 'idempotency_key_reused');
});

test('limits must be positive integers', (t) => {
  t.throws(() => new PrintShop({ idempotency: { maxEntries: 0 } }), { instanceOf: RangeError });
  t.throws(() => new PrintShop({ idempotency: { ttlMs: -1 } }), { instanceOf: RangeError });
});

test('eviction walks keys in insertion order and stops at the first live one, even if later ones expired', (t) => {
  // Pinned because every replica must evict identically, whatever version it runs.
  const shop = new PrintShop({ idempotency: { ttlMs: 1000 } });
  mustOk(shop.apply(printer('a', { at: T0 + 500, ...key('ka') })));
  mustOk(shop.apply(printer('b', { at: T0, ...key('kb') }))); // the proposer's clock stepped back
  mustOk(shop.apply(printer('c', { at: T0 + 1400, ...key('kc') })));
  t.is(shop.counts().idempotency_keys, 3, 'kb expired but sits behind the live ka');
  // Expired keys count as absent even while still stored.
  const fresh = shop.apply(printer('d', { at: T0 + 1400, ...key('kb', 'another') }));
  t.true(fresh.ok && fresh.replayed === undefined);
  t.is(shop.counts().idempotency_keys, 3, 'kb was replaced, moving to the end');
  mustOk(shop.apply(printer('e', { at: T0 + 1600, ...key('ke') })));
  t.is(shop.counts().idempotency_keys, 3, 'ka expired at the front and was evicted');
});

test('a caller cannot alter a stored result through the values it was handed', (t) => {
  const shop = new PrintShop();
  const first = shop.apply(printer('p1', key('k')));
  const before = text(shop.snapshot());
  if (first.ok) (first.value as { company: string }).company = 'changed by the caller';
  const replay = shop.apply(printer('p1', key('k')));
  t.is(replay.ok ? (replay.value as { company: string }).company : '', 'Creality');
  t.throws(
    () => {
      if (replay.ok) (replay.value as { company: string }).company = 'changed again';
    },
    { instanceOf: TypeError },
  );
  t.is(text(shop.snapshot()), before);
});
