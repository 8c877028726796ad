#!/usr/bin/env bash
# Runs a local Orleans.Trade cluster: N silo processes on one PostgreSQL, each with its own HTTP, silo and gateway port.
#
# Usage: deploy/cluster-local.sh start [N]   start N silos (default 3) and wait until each is ready
#        deploy/cluster-local.sh stop        stop them (SIGTERM, then SIGKILL after 30 s)
#        deploy/cluster-local.sh status      list the silos and whether they answer
#
# Environment:
#   ConnectionStrings__Trade  PostgreSQL to use (default: the one deploy/dev-postgres.sh starts)
#   CLUSTER_DIR               pid and log folder (default: <repo>/.cluster)
#   HTTP_BASE_PORT            first HTTP port (default 5080); silo i listens on HTTP_BASE_PORT+i
#   SILO_BASE_PORT            first silo-to-silo port (default 11111)
#   GATEWAY_BASE_PORT         first gateway port (default 30000)
#   CLUSTER_ID                Orleans cluster and service id (default orleans-trade)
#   SILO_DLL                  a built Orleans.Trade.Silo.dll (default: build silo in Release first)
#   Security__SecretsKey, Payments__CardFingerprintKey
#                             shared keys (base64, 32 bytes); generated into CLUSTER_DIR when unset
# Any other variable (e.g. Auth__BootstrapAdminKey) reaches the silos unchanged.
set -euo pipefail

die() { echo "cluster-local: error: $*" >&2; exit 1; }
log() { echo "cluster-local: $*" >&2; }

cmd="${1:-start}"
count="${2:-3}"
script_dir="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo_root="$(cd "$script_dir/.." && pwd)"
dir="${CLUSTER_DIR:-$repo_root/.cluster}"
http_base="${HTTP_BASE_PORT:-5080}"
silo_base="${SILO_BASE_PORT:-11111}"
gateway_base="${GATEWAY_BASE_PORT:-30000}"
cluster_id="${CLUSTER_ID:-orleans-trade}"

# Whether pid is a silo of ours: alive and running the silo. A pidfile left by a silo that died (a crash, a reboot) may name
# another process by now, which is never signalled nor counted as a silo.
is_silo() {
    local pid="$1" cmdline
    [[ "$pid" =~ ^[0-9]+$ ]] && kill -0 "$pid" 2>/dev/null || return 1
    cmdline="$(tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null)" || return 1
    [[ "$cmdline" == *Orleans.Trade.Silo* ]]
}

# Whether something already listens on a loopback port (another silo, the embedded one of `dotnet run --project silo`).
port_taken() {
    (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

wait_ready() {
    local url="$1" pid="$2"
    for _ in $(seq 1 240); do
        is_silo "$pid" || return 1
        if curl -fsS -o /dev/null "$url/health/ready" 2>/dev/null; then
            return 0
        fi
        sleep 0.5
    done
    return 1
}

case "$cmd" in
    start)
        [[ "$count" =~ ^[1-9][0-9]?$ ]] || die "N must be between 1 and 99"
        mkdir -p "$dir"
        if [[ -z "${ConnectionStrings__Trade:-}" ]]; then
            ConnectionStrings__Trade="$("$script_dir/dev-postgres.sh" start | tail -n 1)"
        fi
        export ConnectionStrings__Trade
        # Every silo must share the keys that seal secrets and fingerprint cards: make them once per cluster folder.
        for setting in Security__SecretsKey Payments__CardFingerprintKey; do
            keyfile="$dir/${setting}.key"
            if [[ -z "${!setting:-}" ]]; then
                [[ -f "$keyfile" ]] || (umask 077 && head -c 32 /dev/urandom | base64 >"$keyfile")
                export "$setting=$(cat "$keyfile")"
            fi
        done
        dll="${SILO_DLL:-}"
        if [[ -z "$dll" ]]; then
            log "building the silo (Release)"
            dotnet build "$repo_root/silo" -c Release -v quiet -nologo >&2
            dll="$repo_root/silo/bin/Release/net10.0/Orleans.Trade.Silo.dll"
        fi
        [[ -f "$dll" ]] || die "silo not found at $dll"
        for ((i = 0; i < count; i++)); do
            pidfile="$dir/silo-$i.pid"
            if [[ -f "$pidfile" ]] && is_silo "$(cat "$pidfile")"; then
                die "silo $i is already running (pid $(cat "$pidfile")); stop the cluster first"
            fi
            rm -f "$pidfile" # left by a silo that died
        done
        # Every port free before any silo starts: a silo that cannot bind exits, while whatever holds its HTTP port answered
        # its readiness check in its place.
        for ((i = 0; i < count; i++)); do
            for port in $((http_base + i)) $((silo_base + i)) $((gateway_base + i)); do
                port_taken "$port" && die "port $port (silo $i) is in use by another process; stop it or set HTTP_BASE_PORT, SILO_BASE_PORT, GATEWAY_BASE_PORT"
            done
        done
        # Apply the schema once, before the silos race to start.
        Storage__Provider=postgres dotnet "$dll" migrate >&2
        for ((i = 0; i < count; i++)); do
            pidfile="$dir/silo-$i.pid"
            Storage__Provider=postgres \
            ASPNETCORE_URLS="http://127.0.0.1:$((http_base + i))" \
            Orleans__SiloPort="$((silo_base + i))" \
            Orleans__GatewayPort="$((gateway_base + i))" \
            Orleans__ClusterId="$cluster_id" \
            Orleans__ServiceId="$cluster_id" \
                nohup dotnet "$dll" >"$dir/silo-$i.log" 2>&1 &
            echo $! >"$pidfile"
            echo "http://127.0.0.1:$((http_base + i))" >"$dir/silo-$i.url"
        done
        for ((i = 0; i < count; i++)); do
            url="$(cat "$dir/silo-$i.url")"
            wait_ready "$url" "$(cat "$dir/silo-$i.pid")" || { tail -n 30 "$dir/silo-$i.log" >&2; die "silo $i did not become ready"; }
            log "silo $i ready at $url (pid $(cat "$dir/silo-$i.pid"), log $dir/silo-$i.log)"
            echo "$url"
        done
        ;;
    stop)
        shopt -s nullglob
        for pidfile in "$dir"/silo-*.pid; do
            pid="$(cat "$pidfile")"
            if is_silo "$pid"; then
                kill -TERM "$pid"
                for _ in $(seq 1 60); do kill -0 "$pid" 2>/dev/null || break; sleep 0.5; done
                kill -0 "$pid" 2>/dev/null && kill -KILL "$pid"
                log "stopped pid $pid"
            fi
            rm -f "$pidfile"
        done
        ;;
    status)
        shopt -s nullglob
        for pidfile in "$dir"/silo-*.pid; do
            i="$(basename "$pidfile" .pid)"
            url="$(cat "$dir/$i.url" 2>/dev/null || echo '?')"
            if is_silo "$(cat "$pidfile")" && curl -fsS -o /dev/null "$url/health/ready" 2>/dev/null; then state=ready; else state=down; fi
            echo "$i pid $(cat "$pidfile") $url $state"
        done
        ;;
    *)
        die "unknown command '$cmd' (start|stop|status)"
        ;;
esac
