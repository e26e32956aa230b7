#!/usr/bin/env bash
# Installs what the fault-injection tests need beyond Node: iproute2 (ip, tc) and iptables.
# Idempotent and quiet when everything is there. Without root or apt-get it says so and
# exits 0: the namespace tests then skip with a message instead of failing.
set -u
missing=()
command -v ip >/dev/null 2>&1 || missing+=(iproute2)
command -v tc >/dev/null 2>&1 || missing+=(iproute2)
command -v iptables >/dev/null 2>&1 || missing+=(iptables)
if [ ${#missing[@]} -eq 0 ]; then exit 0; fi
if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null 2>&1; then
  echo "chaos setup: missing ${missing[*]} and cannot install (needs root and apt-get); namespace tests will skip"
  exit 0
fi
echo "chaos setup: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
if ! { apt-get update -qq && apt-get install -y -qq --no-install-recommends "${missing[@]}"; } >/tmp/r3d-setup.log 2>&1; then
  echo "chaos setup: apt-get failed (see /tmp/r3d-setup.log); namespace tests will skip"
fi
exit 0
