#!/usr/bin/env bash
# Makes sure a Docker engine answers on /var/run/docker.sock (installs Debian's docker.io,
# busybox-static for the lab images, sleuthkit for mactime, tmux for the TUI test, tcpdump for
# collect:traffic, yara for evidence:yara).
set -euo pipefail
SOCK=/var/run/docker.sock
ping_engine() { curl -sf --max-time 3 --unix-socket "$SOCK" http://localhost/_ping >/dev/null 2>&1; }

need=()
command -v dockerd >/dev/null 2>&1 || need+=(docker.io)
[ -x /usr/bin/busybox ] && /usr/bin/busybox --list >/dev/null 2>&1 || need+=(busybox-static)
command -v mactime >/dev/null 2>&1 || need+=(sleuthkit)
command -v tmux >/dev/null 2>&1 || need+=(tmux)
command -v curl >/dev/null 2>&1 || need+=(curl)
command -v tcpdump >/dev/null 2>&1 || need+=(tcpdump)
command -v yara >/dev/null 2>&1 || need+=(yara)
if [ ${#need[@]} -gt 0 ]; then
  echo "setup-engine: installing ${need[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq "${need[@]}" >/dev/null
fi

if ping_engine; then
  echo "setup-engine: engine answers on $SOCK"
  exit 0
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
  if ping_engine; then echo "setup-engine: engine is up"; exit 0; fi
  sleep 1
done
echo "setup-engine: dockerd did not answer /_ping within 60 s; last log lines:" >&2
tail -n 30 /tmp/cirt-dockerd.log >&2 || true
exit 1
