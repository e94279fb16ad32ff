#!/usr/bin/env bash
# Extra Docker engines on this machine, beside the main one (whose dockerd at /var/run/docker.sock is
# never restarted, stopped or reconfigured here), so multi-engine code runs against real engines.
#
#   scripts/extra-engines.sh [start|status|stop]      (default: start; idempotent, ~0.1 s when up)
#
# Engine k (k = 2 .. CIRT_EXTRA_ENGINES+1, default 2 extra engines: cirt-e2, cirt-e3):
#   -H unix:///run/cirt-e<k>/docker.sock  --data-root /var/lib/cirt-e<k>  --exec-root /run/cirt-e<k>/x
#   --pidfile /run/cirt-e<k>/docker.pid   -b cirt-br<k> (10.77.<k>.1/24, made with `ip link`)
#   its own daemon.json (empty: /etc/docker/daemon.json is the main engine's), its own address pool.
# The last one also listens on tcp://127.0.0.1:$CIRT_TLS_PORT (default 23760) with --tlsverify: a CA,
# a server and a client certificate are made with openssl under /run/cirt-engines/tls (never in the repo).
#
# What keeps the main engine safe (all seen or read in moby's source):
# - --iptables=false: a dockerd that manages iptables flushes the DOCKER chains at start, which would
#   drop the main engine's published-port rules. So on an extra engine only the cirt-br<k> bridge
#   carries container-to-container traffic (one FORWARD accept rule per bridge, added here), published
#   ports go through docker-proxy, and `internal` networks are enforced by routes only.
# - --default-address-pool 10.(80+k).0.0/16: the networks it makes (quarantine networks) never take a
#   subnet of the main engine's pools (172.17-31.x, 192.168.x), whose routes they would shadow.
# - an empty network store at every start (see start_engine): with address pools set, a restart would
#   otherwise delete docker0.
# - never --bridge none (that deletes docker0 too), never the main engine's daemon.json or exec-root.
#
# Images are copied from the main engine (docker save | docker load; nothing is downloaded): every
# cirt-lab/* image the main engine has and the extra one lacks, plus CIRT_EXTRA_IMAGES (space separated).
# /run/cirt-engines/engines.json lists the engines for tests (test/helpers/engines.ts).
set -euo pipefail

N=${CIRT_EXTRA_ENGINES:-2}
TLS_PORT=${CIRT_TLS_PORT:-23760}
STATE=/run/cirt-engines
TLS=$STATE/tls
MAIN=unix:///var/run/docker.sock
cmd=${1:-start}

log() { echo "extra-engines: $*"; }
ping_sock() { curl -sf --max-time 2 --unix-socket "$1" http://localhost/_ping >/dev/null 2>&1; }
ping_tls() {
  curl -sf --max-time 2 --cacert "$TLS/ca.pem" --cert "$TLS/cert.pem" --key "$TLS/key.pem" \
    "https://127.0.0.1:$TLS_PORT/_ping" >/dev/null 2>&1
}
# The pid in a pidfile, when that process is still a dockerd.
live_pid() {
  local pid
  pid=$(cat "$1" 2>/dev/null || true)
  [ -n "$pid" ] && [ -r "/proc/$pid/comm" ] && [ "$(cat "/proc/$pid/comm")" = dockerd ] && echo "$pid"
}

mkdir -p "$STATE"
# One setup at a time (several test runs may start at once).
exec 9>"$STATE/lock"
flock -w 180 9 || { echo "extra-engines: another setup holds $STATE/lock for 3 minutes" >&2; exit 1; }

make_certs() {
  # Reused while valid for another day; all made again otherwise (the engine is then restarted).
  if [ -s "$TLS/ca.pem" ] && openssl x509 -checkend 86400 -noout -in "$TLS/server-cert.pem" >/dev/null 2>&1 &&
    openssl x509 -checkend 86400 -noout -in "$TLS/cert.pem" >/dev/null 2>&1; then
    return 1
  fi
  log "making a test CA, server and client certificates in $TLS"
  rm -rf "$TLS" && mkdir -p "$TLS" && chmod 700 "$TLS"
  local ec=(-newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes)
  openssl req -x509 "${ec[@]}" -keyout "$TLS/ca-key.pem" -out "$TLS/ca.pem" -days 30 \
    -subj "/CN=cirt test CA" 2>/dev/null
  openssl req "${ec[@]}" -keyout "$TLS/server-key.pem" -out "$TLS/server.csr" \
    -subj "/CN=127.0.0.1" 2>/dev/null
  printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n' >"$TLS/server.ext"
  openssl x509 -req -in "$TLS/server.csr" -CA "$TLS/ca.pem" -CAkey "$TLS/ca-key.pem" \
    -CAcreateserial -out "$TLS/server-cert.pem" -days 30 -extfile "$TLS/server.ext" 2>/dev/null
  openssl req "${ec[@]}" -keyout "$TLS/key.pem" -out "$TLS/client.csr" -subj "/CN=cirt" 2>/dev/null
  printf 'extendedKeyUsage=clientAuth\n' >"$TLS/client.ext"
  openssl x509 -req -in "$TLS/client.csr" -CA "$TLS/ca.pem" -CAkey "$TLS/ca-key.pem" \
    -CAcreateserial -out "$TLS/cert.pem" -days 30 -extfile "$TLS/client.ext" 2>/dev/null
  chmod 600 "$TLS"/*key.pem
  return 0
}

ensure_bridge() {
  local br=$1 addr=$2
  if ! ip link show "$br" >/dev/null 2>&1; then
    ip link add "$br" type bridge
  fi
  ip addr show dev "$br" | grep -q " ${addr} " || ip addr add "$addr" dev "$br" 2>/dev/null || true
  ip link set "$br" up
  # The main engine's FORWARD policy is DROP and bridged traffic passes iptables (br_netfilter):
  # without this, two containers on the extra engine's bridge could not talk.
  iptables -C FORWARD -i "$br" -o "$br" -j ACCEPT 2>/dev/null ||
    iptables -I FORWARD -i "$br" -o "$br" -j ACCEPT
}

start_engine() {
  local k=$1 tls=$2 restart=$3
  local dir=/run/cirt-e$k br=cirt-br$k sock=/run/cirt-e$k/docker.sock
  local pid
  pid=$(live_pid "$dir/docker.pid" || true)
  if [ -n "$pid" ] && [ "$restart" = 1 ]; then
    log "cirt-e$k: restarting (new certificates)"
    kill "$pid"
    for _ in $(seq 1 40); do kill -0 "$pid" 2>/dev/null || break; sleep 0.25; done
    pid=
  fi
  if [ -n "$pid" ] && ping_sock "$sock" && { [ "$tls" = 0 ] || ping_tls; }; then
    return 0
  fi
  if [ -n "$pid" ]; then
    # Running but not answering yet (another setup started it): wait below instead of starting twice.
    :
  else
    ensure_bridge "$br" "10.77.$k.1/24"
    mkdir -p "$dir" "/var/lib/cirt-e$k"
    echo '{}' >"$dir/daemon.json"
    rm -f "$dir/docker.pid" "$sock"
    # DANGER, seen here: a dockerd that finds its old default "bridge" network in its store while
    # address pools are set deletes the interface docker0 at start (moby daemon_unix.go, "Clear stale
    # bridge network" → removeDefaultBridgeInterface) — the MAIN engine's bridge. So every start
    # begins from an empty network store (this engine's own networks are forgotten; nothing else is).
    rm -f "/var/lib/cirt-e$k/network/files/local-kv.db"
    local args=(
      --config-file "$dir/daemon.json"
      -H "unix://$sock"
      --data-root "/var/lib/cirt-e$k"
      --exec-root "$dir/x"
      --pidfile "$dir/docker.pid"
      -b "$br"
      --iptables=false
      --ip-masq=false
      --default-address-pool "base=10.$((80 + k)).0.0/16,size=24"
    )
    if [ "$tls" = 1 ]; then
      args+=(-H "tcp://127.0.0.1:$TLS_PORT" --tlsverify --tlscacert "$TLS/ca.pem"
        --tlscert "$TLS/server-cert.pem" --tlskey "$TLS/server-key.pem")
    fi
    log "cirt-e$k: starting dockerd (log: $dir/dockerd.log)"
    # fd 9 is the setup lock: the daemon must not keep holding it.
    nohup dockerd "${args[@]}" >"$dir/dockerd.log" 2>&1 9>&- &
  fi
  for _ in $(seq 1 120); do
    if ping_sock "$sock" && { [ "$tls" = 0 ] || ping_tls; }; then return 0; fi
    sleep 0.5
  done
  echo "extra-engines: cirt-e$k did not answer within 60 s; last log lines:" >&2
  tail -n 30 "$dir/dockerd.log" >&2 || true
  return 1
}

copy_images() {
  local sock=$1 want=() img
  # Every cirt-lab/* image of the main engine, and what the caller names.
  mapfile -t have_main < <(docker -H "$MAIN" images --format '{{.Repository}}:{{.Tag}}' 'cirt-lab/*' 2>/dev/null)
  for img in "${have_main[@]}" ${CIRT_EXTRA_IMAGES:-}; do
    [ -n "$img" ] || continue
    docker -H "unix://$sock" image inspect "$img" >/dev/null 2>&1 || want+=("$img")
  done
  [ ${#want[@]} -gt 0 ] || return 0
  log "copying ${want[*]} into $(dirname "$sock" | xargs basename)"
  docker -H "$MAIN" save "${want[@]}" | docker -H "unix://$sock" load -q >/dev/null
}

write_list() {
  local k last=$((N + 1)) first=1
  {
    echo '['
    for k in $(seq 2 "$last"); do
      [ $first = 1 ] || echo ','
      first=0
      printf '  {"name": "cirt-e%s", "socket": "unix:///run/cirt-e%s/docker.sock"' "$k" "$k"
      if [ "$k" = "$last" ]; then
        printf ', "tls": {"host": "tcp://127.0.0.1:%s", "ca": "%s/ca.pem", "cert": "%s/cert.pem", "key": "%s/key.pem"}' \
          "$TLS_PORT" "$TLS" "$TLS" "$TLS"
      fi
      printf '}'
    done
    printf '\n]\n'
  } >"$STATE/engines.json.tmp"
  mv "$STATE/engines.json.tmp" "$STATE/engines.json"
}

case "$cmd" in
  start)
    ping_sock /var/run/docker.sock || { echo "extra-engines: the main engine does not answer; run scripts/setup-engine.sh" >&2; exit 1; }
    [ "$N" -ge 1 ] || exit 0
    fresh=0
    make_certs && fresh=1
    for k in $(seq 2 $((N + 1))); do
      if [ "$k" = $((N + 1)) ]; then start_engine "$k" 1 "$fresh"; else start_engine "$k" 0 0; fi
      copy_images "/run/cirt-e$k/docker.sock"
    done
    write_list
    log "$N extra engine(s) up: $(seq -s ' ' -f 'cirt-e%g' 2 $((N + 1))) (TLS on tcp://127.0.0.1:$TLS_PORT); list in $STATE/engines.json"
    ;;
  status)
    for k in $(seq 2 $((N + 1))); do
      if ping_sock "/run/cirt-e$k/docker.sock"; then echo "cirt-e$k up"; else echo "cirt-e$k down"; fi
    done
    ;;
  stop)
    # Only the dockerds this script started (by their pid files); data and bridges are kept.
    for k in $(seq 2 $((N + 1))); do
      pid=$(live_pid "/run/cirt-e$k/docker.pid" || true)
      if [ -n "$pid" ]; then log "stopping cirt-e$k (pid $pid)"; kill "$pid"; fi
    done
    ;;
  *)
    echo "usage: $0 [start|status|stop]" >&2
    exit 2
    ;;
esac
