#!/usr/bin/env bash
# The compose topology (redis, silos, one gateway) as local processes on 127.0.0.1, for
# machines without Docker. The cluster tests drive their grids through this script.
#
#   compose/grid-local.sh up                 redis + 2 silos + 1 gateway, waits until models serve
#   compose/grid-local.sh down               stops everything (silos drain first)
#   compose/grid-local.sh status             pids and what the gateway reports
#   compose/grid-local.sh start-redis
#   compose/grid-local.sh start-silo NAME SILO_PORT GATEWAY_PORT [grid silo flags...]
#   compose/grid-local.sh start-gateway [grid gateway flags...]
#   compose/grid-local.sh stop NAME          SIGTERM, then waits for the process to exit (graceful)
#   compose/grid-local.sh kill NAME          SIGKILL (a crash)
#   compose/grid-local.sh wait-ready [SILOS] waits until the gateway sees SILOS active silos (default 2)
#
# Settings (environment):
#   GRID_RUN_DIR          pid files, logs and redis data (default .grid-local)
#   GRID_REDIS_PORT       default 6390
#   GRID_GRPC_PORT        gateway gRPC port, default 8500
#   GRID_REST_PORT        gateway REST port, default 8501
#   GRID_MODEL_REPOSITORY default examples/models
#   GRID_DLL              the built grid.dll (default: Release build, built when missing)
#   GRID_ADMIN_TOKEN      when set, the gateway requires it on /v1/grid/... and this script sends it
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
RUN_DIR=${GRID_RUN_DIR:-$ROOT/.grid-local}
REDIS_PORT=${GRID_REDIS_PORT:-6390}
GRPC_PORT=${GRID_GRPC_PORT:-8500}
REST_PORT=${GRID_REST_PORT:-8501}
REPO=${GRID_MODEL_REPOSITORY:-$ROOT/examples/models}
GRID_DLL=${GRID_DLL:-$ROOT/src/Silo/bin/Release/net10.0/grid.dll}
CLUSTER="redis://127.0.0.1:$REDIS_PORT"
AUTH=()
if [ -n "${GRID_ADMIN_TOKEN:-}" ]; then AUTH=(-H "Authorization: Bearer $GRID_ADMIN_TOKEN"); fi

mkdir -p "$RUN_DIR"

die() { echo "grid-local: $*" >&2; exit 1; }

ensure_built() {
  if [ ! -f "$GRID_DLL" ]; then
    echo "grid-local: building grid (Release)"
    dotnet build "$ROOT/src/Silo" -c Release -v quiet -nologo >/dev/null
  fi
}

pid_of() { cat "$RUN_DIR/$1.pid" 2>/dev/null || true; }

alive() { local pid; pid=$(pid_of "$1"); [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; }

# launch NAME COMMAND...: runs in the background, output in NAME.log, pid in NAME.pid
launch() {
  local name=$1; shift
  if alive "$name"; then die "$name is already running (pid $(pid_of "$name"))"; fi
  nohup "$@" >>"$RUN_DIR/$name.log" 2>&1 </dev/null &
  echo $! >"$RUN_DIR/$name.pid"
  echo "grid-local: started $name (pid $!), log $RUN_DIR/$name.log"
}

start_redis() {
  command -v redis-server >/dev/null || die "redis-server is not installed (apt-get install -y redis-server)"
  mkdir -p "$RUN_DIR/redis"
  # Append-only persistence: Orleans' Redis membership must not vanish on a Redis restart.
  launch redis redis-server --port "$REDIS_PORT" --bind 127.0.0.1 --dir "$RUN_DIR/redis" \
    --appendonly yes --save "" --protected-mode yes
  for _ in $(seq 1 100); do
    if (exec 3<>"/dev/tcp/127.0.0.1/$REDIS_PORT") 2>/dev/null; then return 0; fi
    sleep 0.1
  done
  die "redis did not start on port $REDIS_PORT; see $RUN_DIR/redis.log"
}

start_silo() {
  [ $# -ge 3 ] || die "usage: start-silo NAME SILO_PORT GATEWAY_PORT [flags...]"
  local name=$1 silo_port=$2 gateway_port=$3; shift 3
  ensure_built
  launch "$name" dotnet "$GRID_DLL" silo --cluster "$CLUSTER" --silo_name "$name" \
    --silo_port "$silo_port" --gateway_port "$gateway_port" --advertised_address 127.0.0.1 \
    --model_repository "$REPO" "$@"
}

start_gateway() {
  ensure_built
  launch gateway dotnet "$GRID_DLL" gateway --cluster "$CLUSTER" --host 127.0.0.1 \
    --port "$GRPC_PORT" --rest_api_port "$REST_PORT" "$@"
}

stop_one() {
  local name=$1 signal=$2 pid
  pid=$(pid_of "$name")
  [ -n "$pid" ] || die "no pid file for $name"
  if kill -0 "$pid" 2>/dev/null; then
    kill "-$signal" "$pid"
    for _ in $(seq 1 600); do
      kill -0 "$pid" 2>/dev/null || break
      sleep 0.1
    done
    kill -0 "$pid" 2>/dev/null && die "$name (pid $pid) did not exit within 60 s"
  fi
  rm -f "$RUN_DIR/$name.pid"
  echo "grid-local: $name stopped ($signal)"
}

wait_ready() {
  local silos=${1:-2}
  command -v curl >/dev/null || die "curl is not installed"
  for _ in $(seq 1 1200); do
    local body
    body=$(curl -sf "${AUTH[@]}" "http://127.0.0.1:$REST_PORT/v1/grid/cluster" 2>/dev/null || true)
    if [ -n "$body" ] && [ "$(grep -o '"status": "Active"' <<<"$body" | wc -l)" -ge "$silos" ]; then
      echo "grid-local: gateway on 127.0.0.1:$REST_PORT sees $silos active silos"
      return 0
    fi
    sleep 0.1
  done
  die "the gateway did not see $silos active silos within 120 s; logs in $RUN_DIR"
}

cmd=${1:-}
shift || true
case "$cmd" in
  up)
    start_redis
    start_silo silo1 11111 30000
    start_silo silo2 11112 30001
    start_gateway
    wait_ready 2
    echo "grid-local: TF Serving REST on http://127.0.0.1:$REST_PORT, gRPC on 127.0.0.1:$GRPC_PORT"
    ;;
  down)
    for f in "$RUN_DIR"/*.pid; do
      [ -e "$f" ] || continue
      name=$(basename "$f" .pid)
      [ "$name" = redis ] && continue
      stop_one "$name" TERM
    done
    [ -e "$RUN_DIR/redis.pid" ] && stop_one redis TERM
    ;;
  status)
    for f in "$RUN_DIR"/*.pid; do
      [ -e "$f" ] || continue
      name=$(basename "$f" .pid)
      if alive "$name"; then echo "$name: running (pid $(pid_of "$name"))"; else echo "$name: exited"; fi
    done
    curl -sf "${AUTH[@]}" "http://127.0.0.1:$REST_PORT/v1/grid/cluster" || echo "gateway: not answering on 127.0.0.1:$REST_PORT"
    ;;
  start-redis) start_redis ;;
  start-silo) start_silo "$@" ;;
  start-gateway) start_gateway "$@" ;;
  stop) stop_one "${1:?usage: stop NAME}" TERM ;;
  kill) stop_one "${1:?usage: kill NAME}" KILL ;;
  wait-ready) wait_ready "$@" ;;
  *) sed -n '2,22p' "$0"; exit 2 ;;
esac
