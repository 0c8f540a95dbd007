#!/usr/bin/env bash
# The two-domain compose deployment (deploy/docker-compose.yml), for real, on
# a machine that cannot pull images:
#
#   deploy/smoke.sh
#
#  1. builds mimi-ds, mimi-conformance and mimi-chat (release) on the host;
#  2. makes a local Debian base image, once: debootstrap --variant=minbase
#     bookworm, then `docker import` (kept as $MIMI_SMOKE_BASE);
#  3. builds the runtime image from deploy/Dockerfile's `runtime-prebuilt`
#     stage on that base with the host's binary (build args BASE, MIMI_DS_BIN);
#  4. makes the private CA's certificates (deploy/compose/make-certs.sh) and
#     starts ds-a.example and ds-b.example with docker-compose, and the
#     "conformance" profile's ds-c.example, waiting until all report healthy;
#  5. runs mimi-conformance against them (every scenario: it cuts ds-b off the
#     network with `docker network disconnect`, heals and restarts it through
#     the commands given here, and signs hostile fan-outs with ds-c's key);
#  6. once more by hand, with mimi-chat: cuts ds-b off while alice on ds-a
#     keeps sending, reconnects it, and checks that bob on ds-b got every
#     message, in order;
#  7. scrapes both admin /metrics endpoints and checks the federation
#     counters and an empty outbox;
#  8. tears everything down (containers, network, volumes), also on failure,
#     after printing the DSs' logs if something failed.
#
# Needs: root (debootstrap, docker), Docker Engine with docker-compose (or the
# `docker compose` plugin), curl, and Debian's package mirror for debootstrap.
# Environment:
#   MIMI_SMOKE_BASE     local base image (default mimi-local/bookworm-minbase)
#   MIMI_SMOKE_IMAGE    runtime image built here (default mimi-ds:smoke)
#   MIMI_SMOKE_WORK     scratch directory (default target/smoke)
#   DEBIAN_MIRROR       debootstrap mirror (default http://deb.debian.org/debian)
#   DS_A_PUBLIC, DS_B_PUBLIC, DS_A_ADMIN, DS_B_ADMIN   host bindings, as in
#                       docker-compose.yml (defaults 127.0.0.1:8443/8444/9443/9444)
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD

base_image=${MIMI_SMOKE_BASE:-mimi-local/bookworm-minbase:latest}
image=${MIMI_SMOKE_IMAGE:-mimi-ds:smoke}
work=${MIMI_SMOKE_WORK:-$root/target/smoke}
mirror=${DEBIAN_MIRROR:-http://deb.debian.org/debian}
export DS_A_PUBLIC=${DS_A_PUBLIC:-127.0.0.1:8443}
export DS_B_PUBLIC=${DS_B_PUBLIC:-127.0.0.1:8444}
export DS_A_ADMIN=${DS_A_ADMIN:-127.0.0.1:9443}
export DS_B_ADMIN=${DS_B_ADMIN:-127.0.0.1:9444}
export MIMI_DS_IMAGE=$image
export COMPOSE_PROJECT_NAME=mimi-smoke

step() { printf '\n== smoke: %s ==\n' "$*"; }
die() { printf 'smoke: FAILED: %s\n' "$*" >&2; exit 1; }

if docker-compose version >/dev/null 2>&1; then
  compose=(docker-compose -f deploy/docker-compose.yml)
elif docker compose version >/dev/null 2>&1; then
  compose=(docker compose -f deploy/docker-compose.yml)
else
  die "neither docker-compose nor docker compose is installed"
fi
network=${COMPOSE_PROJECT_NAME}_federation

step "release binaries (host)"
cargo build --release --locked -p ds-server --bin mimi-ds \
  -p interop-tests --bin mimi-conformance -p ds-client-sdk --bin mimi-chat
bin=$root/target/release

step "local base image $base_image"
if docker image inspect "$base_image" >/dev/null 2>&1; then
  echo "present"
else
  if ! command -v debootstrap >/dev/null; then
    # Package lists are fetched only if the install cannot do without them.
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq debootstrap >/dev/null 2>&1 \
      || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq debootstrap >/dev/null; }
  fi
  rootfs=$work/rootfs
  rm -rf "$rootfs"
  mkdir -p "$work"
  debootstrap --variant=minbase --include=ca-certificates bookworm "$rootfs" "$mirror" \
    >"$work/debootstrap.log" 2>&1 || { tail -20 "$work/debootstrap.log"; die "debootstrap"; }
  tar -C "$rootfs" -c . | docker import - "$base_image" >/dev/null
  rm -rf "$rootfs"
  echo "imported"
fi

step "runtime image $image (deploy/Dockerfile --target runtime-prebuilt)"
# A context of its own: the classic builder would send all of target/ otherwise.
context=$work/context
rm -rf "$context"
mkdir -p "$context"
install -m 0755 "$bin/mimi-ds" "$context/mimi-ds"
docker build -q -f deploy/Dockerfile --target runtime-prebuilt \
  --build-arg BASE="$base_image" --build-arg MIMI_DS_BIN=mimi-ds -t "$image" "$context"
docker run --rm --entrypoint mimi-ds "$image" --version

step "certificates (deploy/compose/make-certs.sh)"
deploy/compose/make-certs.sh

logs_and_down() {
  status=$?
  if [ "$status" -ne 0 ]; then
    echo "--- logs of the failed run ---"
    "${compose[@]}" logs --no-color --tail 80 || true
  fi
  step "teardown"
  "${compose[@]}" down -v --remove-orphans >/dev/null 2>&1 || true
  exit "$status"
}
trap logs_and_down EXIT

step "compose up"
"${compose[@]}" down -v --remove-orphans >/dev/null 2>&1 || true
"${compose[@]}" up -d --no-build ds-a.example ds-b.example ds-c.example
a_container=$("${compose[@]}" ps -q ds-a.example)
b_container=$("${compose[@]}" ps -q ds-b.example)
c_container=$("${compose[@]}" ps -q ds-c.example)

wait_healthy() {
  for _ in $(seq 1 120); do
    if [ "$(docker inspect -f '{{.State.Health.Status}}' "$1")" = healthy ]; then
      return 0
    fi
    sleep 1
  done
  die "container $1 not healthy after 120 s"
}
wait_healthy "$a_container"
wait_healthy "$b_container"
wait_healthy "$c_container"
echo "all three healthy"
# ds-c.example's signing keys, for the suite's SEC-PEER- scenarios.
rm -rf "$work/ds-c-keys"
docker cp "$c_container:/var/lib/mimi-ds/ds-keys" "$work/ds-c-keys"

ca=deploy/compose/certs/ca.pem
cut_b="docker network disconnect $network $b_container"
heal_b="docker network connect --alias ds-b.example $network $b_container"
restart_b="docker restart -t 30 $b_container >/dev/null"

step "mimi-conformance against the deployment"
"$bin/mimi-conformance" \
  --ds-a "https://ds-a.example:${DS_A_PUBLIC##*:}" --ds-b "https://ds-b.example:${DS_B_PUBLIC##*:}" \
  --ca "$ca" --connect "ds-a.example=$DS_A_PUBLIC" --connect "ds-b.example=$DS_B_PUBLIC" \
  --cut-b "$cut_b" --heal-b "$heal_b" --restart-b "$restart_b" \
  --peer-key "ds-c.example=$work/ds-c-keys" --require-all
wait_healthy "$b_container"

step "ds-b cut off while ds-a keeps sending (mimi-chat)"
run_id=$(date +%s)
chat_dir=$work/chat-$run_id
chat() { # chat USER DOMAIN PUBLIC LINGER < input
  "$bin/mimi-chat" --server "https://$2:${3##*:}" --user "$1" --device cli \
    --state "$chat_dir/$1" --ca "$ca" --linger "$4" \
    --peer "ds-a.example=$DS_A_PUBLIC" --peer "ds-b.example=$DS_B_PUBLIC"
}
alice=alice-$run_id
bob=bob-$run_id
chat "$bob" ds-b.example "$DS_B_PUBLIC" 0 </dev/null >/dev/null
printf '/create smoke\n/invite %s@ds-b.example\nbefore the cut\n' "$bob" \
  | chat "$alice" ds-a.example "$DS_A_PUBLIC" 0 >"$work/alice-1.out"
grep -q '^\* invited' "$work/alice-1.out" || { cat "$work/alice-1.out"; die "alice could not invite bob"; }
chat "$bob" ds-b.example "$DS_B_PUBLIC" 3 </dev/null >"$work/bob-1.out"
grep -qx "#smoke <$alice@ds-a.example> before the cut" "$work/bob-1.out" \
  || { cat "$work/bob-1.out"; die "bob did not get the first message"; }

count=20
$cut_b
{ echo "/switch smoke"; for i in $(seq 1 $count); do echo "during the cut $i"; done; } \
  | chat "$alice" ds-a.example "$DS_A_PUBLIC" 0 >"$work/alice-2.out" || { $heal_b; die "alice's client failed"; }
if grep -q '^!' "$work/alice-2.out"; then
  $heal_b
  cat "$work/alice-2.out"
  die "ds-a refused a message while ds-b was cut off"
fi
sleep 3
$heal_b
: >"$work/bob-2.out"
for _ in $(seq 1 20); do
  chat "$bob" ds-b.example "$DS_B_PUBLIC" 3 </dev/null >>"$work/bob-2.out"
  [ "$(grep -c "^#smoke <$alice@ds-a.example> during the cut" "$work/bob-2.out")" -ge "$count" ] && break
done
expected=$(for i in $(seq 1 $count); do echo "#smoke <$alice@ds-a.example> during the cut $i"; done)
got=$(grep "^#smoke <$alice@ds-a.example> during the cut" "$work/bob-2.out" || true)
[ "$got" = "$expected" ] || {
  printf 'expected:\n%s\ngot:\n%s\n' "$expected" "$got"
  die "bob did not get the $count messages sent during the cut, once each, in order"
}
echo "bob got all $count messages sent while ds-b was cut off, in order"

step "metrics"
metric() { # metric ADMIN NAME_AND_LABELS -> sum of the matching samples
  curl -fsS "http://$1/metrics" | awk -v m="$2" 'index($0, m) == 1 { s += $NF } END { print s + 0 }'
}
sent=$(metric "$DS_A_ADMIN" 'mimi_ds_fanout_sent_entries_total')
received=$(metric "$DS_B_ADMIN" 'mimi_ds_fanout_received_total')
depth=$(metric "$DS_A_ADMIN" 'mimi_ds_outbox_depth{destination="ds-b.example"}')
echo "ds-a sent $sent fan-out entries; ds-b received $received; ds-a's outbox for ds-b holds $depth"
[ "${sent%.*}" -gt 0 ] || die "ds-a reports no fan-out entries sent"
[ "${received%.*}" -gt 0 ] || die "ds-b reports no fan-out received"
[ "${depth%.*}" -eq 0 ] || die "ds-a's outbox for ds-b is not empty"

step "passed"
