import test from 'ava';
import { ConfigError, loadConfig, memberAddress, parseHostPort } from '../src/config.js';

test('defaults describe a single local member', (t) => {
  const c = loadConfig([], {});
  t.is(c.id, 'n1');
  t.deepEqual(c.api, { host: '127.0.0.1', port: 8080 });
  t.deepEqual([...c.initialCluster], [['n1', '127.0.0.1:9090']]);
  t.is(c.apiAddresses.get('n1'), 'http://127.0.0.1:8080');
  t.is(c.kubernetes, null);
  t.is(c.snapshotEvery, 50_000);
});

test('a flag wins over the environment', (t) => {
  const c = loadConfig(['--id', 'n2', '--initial-cluster', 'n1=127.0.0.1:9090,n2=127.0.0.1:9091'], {
    RAFT3D_NODE_ID: 'n9',
    RAFT3D_TICK_MS: '20',
  });
  t.is(c.id, 'n2');
  t.is(c.tickMs, 20);
  t.is(c.initialCluster.size, 2);
});

test('kubernetes mode derives stable DNS peer names for every ordinal', (t) => {
  const c = loadConfig([], {
    RAFT3D_K8S: 'true',
    POD_NAME: 'raft3d-1',
    POD_NAMESPACE: 'shop',
    RAFT3D_REPLICAS: '3',
    RAFT3D_PEER_LISTEN: '0.0.0.0:9090',
    RAFT3D_API_LISTEN: '0.0.0.0:8080',
  });
  t.is(c.id, 'raft3d-1');
  t.is(c.initialCluster.get('raft3d-2'), 'raft3d-2.raft3d-peers.shop.svc.cluster.local:9090');
  t.is(c.apiAddresses.get('raft3d-0'), 'http://raft3d-0.raft3d-peers.shop.svc.cluster.local:8080');
});

test('bad settings are refused with the setting named', (t) => {
  t.throws(() => loadConfig(['--api', 'nope'], {}), {
    instanceOf: ConfigError,
    message: /RAFT3D_API_LISTEN/,
  });
  t.throws(() => loadConfig([], { RAFT3D_TICK_MS: '-5' }), { message: /RAFT3D_TICK_MS/ });
  t.throws(() => loadConfig(['--initial-cluster', 'n2=127.0.0.1:9091'], {}), {
    message: /must list this member/,
  });
  t.throws(() => loadConfig(['--initial-cluster', 'n1=a:1,n1=b:2'], {}), { message: /twice/ });
  t.throws(() => loadConfig(['--bogus'], {}), { instanceOf: ConfigError });
  t.throws(() => loadConfig([], { RAFT3D_K8S: '1' }), { message: /POD_NAME/ });
  t.throws(() => loadConfig([], { RAFT3D_HEARTBEAT_TICKS: '10' }), { message: /smaller/ });
});

test('a member added to a running cluster is reached where it listens, never at a wildcard', (t) => {
  const first = ['--id', 'n4', '--initial-cluster', 'n1=127.0.0.1:9090,n2=127.0.0.1:9091,n3=127.0.0.1:9092'];
  const added = loadConfig(
    [...first, '--initial-cluster-state', 'existing', '--peer', '127.0.0.1:9093', '--api', '127.0.0.1:8083'],
    {},
  );
  t.deepEqual([...added.initialCluster.keys()], ['n1', 'n2', 'n3'], 'the first configuration only');
  t.deepEqual(memberAddress(added, 'n4~k3f9a2'), { peer: '127.0.0.1:9093', api: 'http://127.0.0.1:8083' });
  t.deepEqual(memberAddress(added, 'n5'), { peer: null, api: null });
  t.throws(
    () => loadConfig([...first, '--initial-cluster-state', 'existing', '--peer', '0.0.0.0:9093'], {}),
    {
      message: /not a wildcard/,
    },
  );
});

test('IPv6 listen addresses parse', (t) => {
  t.deepEqual(parseHostPort('[::1]:9090', 'x'), { host: '::1', port: 9090 });
  t.throws(() => parseHostPort('127.0.0.1:70000', 'x'));
});

test('kubernetes mode: a pod past the initial replicas joins with the initial configuration', (t) => {
  const env = { RAFT3D_K8S: 'true', POD_NAME: 'raft3d-4', POD_NAMESPACE: 'shop', RAFT3D_REPLICAS: '3' };
  const c = loadConfig([], env);
  t.deepEqual([...c.initialCluster.keys()], ['raft3d-0', 'raft3d-1', 'raft3d-2']);
  t.is(c.apiAddresses.get('raft3d-4'), 'http://raft3d-4.raft3d-peers.shop.svc.cluster.local:8080');
  t.throws(() => loadConfig([], { ...env, POD_NAME: 'other-0' }), {
    message: /not a pod of StatefulSet raft3d/,
  });
});

test('RAFT3D_MAX_CLOCK_DRIFT: 0.1 by default, a fraction, or off (no leader leases)', (t) => {
  t.is(loadConfig([], {}).maxClockDrift, 0.1);
  t.is(loadConfig([], { RAFT3D_MAX_CLOCK_DRIFT: '0.25' }).maxClockDrift, 0.25);
  t.is(loadConfig(['--max-clock-drift', 'off'], {}).maxClockDrift, null);
  t.throws(() => loadConfig([], { RAFT3D_MAX_CLOCK_DRIFT: '1' }), { message: /RAFT3D_MAX_CLOCK_DRIFT/ });
  t.throws(() => loadConfig([], { RAFT3D_MAX_CLOCK_DRIFT: 'fast' }), { message: /RAFT3D_MAX_CLOCK_DRIFT/ });
});
