/* global fetch */
// `kubectl port-forward pod/NAME | svc/NAME LOCAL:REMOTE` as kubectl does it, minus the
// kubelet: a Service is resolved to ONE pod when the command starts; the forward proxies
// 127.0.0.1:LOCAL to that pod's API port and ends ("lost connection to pod") once the pod is
// deleted or replaced (its uid changes), exactly when kubectl's tunnel would die.
// Env: FAKE_API (stand-in API server URL), NAMESPACE, PODS (JSON pod -> loopback API port),
// SERVICES (JSON service -> label selector of its pods).
import net from 'node:net';

const args = process.argv.slice(2);
const at = args.indexOf('port-forward');
const [target, ports] = [args[at + 1], args[at + 2]];
const local = Number(ports.split(':')[0]);
const pods = JSON.parse(process.env.PODS);
const services = JSON.parse(process.env.SERVICES);
const api = `${process.env.FAKE_API}/api/v1/namespaces/${process.env.NAMESPACE}/pods`;
const get = async (url) => (await fetch(url)).json();

let pod;
if (target.startsWith('svc/')) {
  const selector = services[target.slice(4)];
  const list = await get(`${api}?labelSelector=${encodeURIComponent(selector)}`);
  pod = list.items[0]?.metadata.name;
  if (!pod) {
    console.error(`error: no pods found for service ${target.slice(4)}`);
    process.exit(1);
  }
} else pod = target.replace(/^pods?\//, '');
const uid = (await get(`${api}/${pod}`)).metadata?.uid;
if (!uid) {
  console.error(`error: pods "${pod}" not found`);
  process.exit(1);
}

const server = net.createServer((client) => {
  const upstream = net.connect(pods[pod], '127.0.0.1');
  client.pipe(upstream).pipe(client);
  const end = () => {
    client.destroy();
    upstream.destroy();
  };
  client.on('error', end);
  upstream.on('error', end);
});
server.listen(local, '127.0.0.1', () =>
  console.log(`Forwarding from 127.0.0.1:${local} -> ${ports.split(':')[1]} (pod ${pod})`),
);
setInterval(async () => {
  const now = await get(`${api}/${pod}`).catch(() => ({}));
  if (now.metadata?.uid !== uid) {
    console.error(`error: lost connection to pod ${pod}`);
    process.exit(1);
  }
}, 100);
