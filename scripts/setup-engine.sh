#!/usr/bin/env bash
# Makes sure a Docker engine answers on /var/run/docker.sock (installs Debian's docker.io,
# busybox-static for the lab images, sleuthkit for mactime, tmux for the TUI test, chromium for the
# report's browser test, openssl for timestamps and encryption, nftables/iptables/conntrack for
# contain:restrict-egress, binutils for readelf on memory cores, tcpdump for collect:traffic, yara
# for evidence:yara), then the extra engines multi-engine tests use (scripts/extra-engines.sh;
# CIRT_EXTRA_ENGINES=0 skips them).
set -euo pipefail
SOCK=/var/run/docker.sock
ping_engine() { curl -sf --max-time 3 --unix-socket "$SOCK" http://localhost/_ping >/dev/null 2>&1; }

need=()
command -v dockerd >/dev/null 2>&1 || need+=(docker.io)
[ -x /usr/bin/busybox ] && /usr/bin/busybox --list >/dev/null 2>&1 || need+=(busybox-static)
command -v mactime >/dev/null 2>&1 || need+=(sleuthkit)
command -v tmux >/dev/null 2>&1 || need+=(tmux)
command -v readelf >/dev/null 2>&1 || need+=(binutils)
command -v curl >/dev/null 2>&1 || need+=(curl)
command -v openssl >/dev/null 2>&1 || need+=(openssl)
command -v ip >/dev/null 2>&1 || need+=(iproute2)
# contain:restrict-egress enters container namespaces with nsenter (util-linux) and installs nftables rules.
command -v nft >/dev/null 2>&1 || need+=(nftables)
command -v iptables >/dev/null 2>&1 || need+=(iptables)
command -v conntrack >/dev/null 2>&1 || need+=(conntrack)
[ -x /usr/bin/chromium ] || need+=(chromium)
command -v tcpdump >/dev/null 2>&1 || need+=(tcpdump)
command -v yara >/dev/null 2>&1 || need+=(yara)
if [ ${#need[@]} -gt 0 ]; then
  echo "setup-engine: installing ${need[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq "${need[@]}" >/dev/null
fi

extra() { exec bash "$(dirname "$0")/extra-engines.sh" start; }
if ping_engine; then
  echo "setup-engine: engine answers on $SOCK"
  extra
fi
# A previous dockerd may still be exiting; remove its pid file only once its process is gone.
if [ -f /var/run/docker.pid ]; then
  pid=$(cat /var/run/docker.pid || true)
  for _ in $(seq 1 20); do
    if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then sleep 0.5; else break; fi
  done
  if [ -z "$pid" ] || ! kill -0 "$pid" 2>/dev/null; then rm -f /var/run/docker.pid; fi
fi
echo "setup-engine: starting dockerd (log: /tmp/cirt-dockerd.log)"
nohup dockerd >/tmp/cirt-dockerd.log 2>&1 &
for _ in $(seq 1 60); do
  if ping_engine; then echo "setup-engine: engine is up"; extra; fi
  sleep 1
done
echo "setup-engine: dockerd did not answer /_ping within 60 s; last log lines:" >&2
tail -n 30 /tmp/cirt-dockerd.log >&2 || true
exit 1
