// The transport's defaults and validation live in resolveTransportOptions(): every tunable
// left out gets its default, what is given wins, and a value that cannot work is refused
// when the transport is built, naming the option.

import test from 'ava';
import {
  DEFAULT_TRANSPORT_OPTIONS,
  HttpTransport,
  resolveTransportOptions,
} from '../../src/transport/index.js';
import type { HttpTransportOptions } from '../../src/transport/index.js';

const base: HttpTransportOptions = {
  id: 'a',
  listen: { host: '127.0.0.1', port: 0 },
  peers: new Map(),
  secret: null,
};

test('every tunable left out gets its default, and no TLS means no CA', (t) => {
  const resolved = resolveTransportOptions(base);
  t.like(resolved, { ...DEFAULT_TRANSPORT_OPTIONS, tls: null, tlsCa: null, id: 'a', secret: null });
});

test('a value given wins over the default', (t) => {
  t.like(resolveTransportOptions({ ...base, maxQueue: 10, silenceMs: 150, backoffCapMs: 50 }), {
    maxQueue: 10,
    silenceMs: 150,
    backoffCapMs: 50,
    backoffBaseMs: 10,
  });
});

test('peers are verified against the CA given, else against our own certificate', (t) => {
  const tls = { cert: 'CERT', key: 'KEY', ca: null };
  t.is(resolveTransportOptions({ ...base, tls }).tlsCa, 'CERT');
  t.is(resolveTransportOptions({ ...base, tls: { ...tls, ca: 'CA' } }).tlsCa, 'CA');
});

test('a tunable that cannot work is refused, naming it', (t) => {
  for (const bad of [0, -1, Number.NaN, Number.POSITIVE_INFINITY])
    t.throws(() => resolveTransportOptions({ ...base, requestTimeoutMs: bad }), {
      instanceOf: RangeError,
      message: /requestTimeoutMs/,
    });
  t.throws(() => resolveTransportOptions({ ...base, backoffBaseMs: 500, backoffCapMs: 100 }), {
    instanceOf: RangeError,
    message: /backoffBaseMs/,
  });
  t.throws(() => new HttpTransport({ ...base, silenceMs: 0 }), {
    instanceOf: RangeError,
    message: /silenceMs/,
  });
});
