#!/usr/bin/env bash
# Local infrastructure without Docker: a real Apache Kafka broker (single-node
# KRaft, jars fetched with Maven) and a real FerretDB (SQLite backend, built
# from deploy/local/ferretdb with Go).
#
# Usage: deploy/local/infra.sh start|stop|restart|status|env [kafka|ferretdb|all]
#
#   start    build/fetch on first use, start the service(s), wait until ready
#            (idempotent: a running, healthy instance is left alone)
#   stop     SIGTERM, wait up to 20 s, then SIGKILL
#   restart  stop + start
#   status   print running/stopped per service; exit 0 only if all are running
#   env      print `export ...` lines, e.g. eval "$(deploy/local/infra.sh env)"
#
# Environment:
#   PORTAL_CACHE_DIR       build/fetch cache     (default <repo>/.cache/local-infra)
#   PORTAL_INFRA_DIR       instance dir: data, logs, pid files (default $PORTAL_CACHE_DIR/run)
#                          -- tests use their own dir and ports beside `make dev`
#   KAFKA_PORT             broker listener          (default 9092)
#   KAFKA_CONTROLLER_PORT  KRaft controller listener (default 9093)
#   FERRETDB_PORT          MongoDB wire protocol     (default 27017)
#   KAFKA_HEAP_OPTS        (default "-Xms256m -Xmx512m")
#   KAFKA_START_TIMEOUT    seconds (default 90);  FERRETDB_START_TIMEOUT seconds (default 30)
#   FERRETDB_LOG_LEVEL     debug|info|warn|error (default info)
#   JAVA_HOME              optional; otherwise `java` from PATH
#
# Everything binds to 127.0.0.1 only.
set -euo pipefail

SCRIPT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO_ROOT="$(cd "$SCRIPT_DIR/../.." && pwd)"

CACHE_DIR="${PORTAL_CACHE_DIR:-$REPO_ROOT/.cache/local-infra}"
INFRA_DIR="${PORTAL_INFRA_DIR:-$CACHE_DIR/run}"
KAFKA_PORT="${KAFKA_PORT:-9092}"
KAFKA_CONTROLLER_PORT="${KAFKA_CONTROLLER_PORT:-9093}"
FERRETDB_PORT="${FERRETDB_PORT:-27017}"
KAFKA_HEAP_OPTS="${KAFKA_HEAP_OPTS:--Xms256m -Xmx512m}"
KAFKA_START_TIMEOUT="${KAFKA_START_TIMEOUT:-90}"
FERRETDB_START_TIMEOUT="${FERRETDB_START_TIMEOUT:-30}"
FERRETDB_LOG_LEVEL="${FERRETDB_LOG_LEVEL:-info}"
STOP_TIMEOUT=20
HOST=127.0.0.1

FERRETDB_SRC="$SCRIPT_DIR/ferretdb"
KAFKA_SRC="$SCRIPT_DIR/kafka"
FERRETDB_BIN="$CACHE_DIR/bin/ferretdb"
KAFKA_LIB="$CACHE_DIR/kafka/lib"

log() { printf '[infra] %s\n' "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }

usage() {
    sed -n '6,27p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//' >&2
    exit 2
}

# --------------------------------------------------------------------------
# helpers

abspath() { # make a possibly relative dir absolute (without requiring it to exist)
    case "$1" in
        /*) printf '%s\n' "$1" ;;
        *) printf '%s/%s\n' "$(pwd)" "$1" ;;
    esac
}
CACHE_DIR="$(abspath "$CACHE_DIR")"
INFRA_DIR="$(abspath "$INFRA_DIR")"
FERRETDB_BIN="$CACHE_DIR/bin/ferretdb"
KAFKA_LIB="$CACHE_DIR/kafka/lib"

for _p in KAFKA_PORT KAFKA_CONTROLLER_PORT FERRETDB_PORT; do
    [[ "${!_p}" =~ ^[0-9]+$ ]] || die "$_p must be a port number, got '${!_p}'"
done
[[ "$KAFKA_PORT" != "$KAFKA_CONTROLLER_PORT" ]] || die "KAFKA_PORT and KAFKA_CONTROLLER_PORT must differ"

# Run "$@" while holding an exclusive lock on file $1 (serialises concurrent
# builds into the shared cache and concurrent start/stop of one instance).
with_lock() {
    local lockfile="$1"
    shift
    mkdir -p "$(dirname "$lockfile")"
    if command -v flock >/dev/null 2>&1; then
        (
            flock -w 900 9 || die "could not lock $lockfile"
            "$@"
        ) 9>"$lockfile"
    else
        "$@"
    fi
}

checksum() { cat "$@" | sha256sum | cut -d' ' -f1; }

port_open() { # port_open PORT -> 0 if something accepts TCP on 127.0.0.1:PORT
    (exec 3<>"/dev/tcp/$HOST/$1") 2>/dev/null
}

now() { date +%s; }

# pid_of NAME MARKER: print the pid from the instance's pid file if that
# process is alive and its command line contains MARKER (guards against pid
# reuse and against another instance's process); otherwise nothing.
pid_of() {
    local pidfile="$INFRA_DIR/$1/$1.pid" marker="$2" pid
    [[ -f "$pidfile" ]] || return 0
    pid="$(cat "$pidfile" 2>/dev/null || true)"
    [[ "$pid" =~ ^[0-9]+$ ]] || return 0
    [[ -r "/proc/$pid/cmdline" ]] || return 0
    if tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -qF -- "$marker"; then
        printf '%s\n' "$pid"
    fi
}

# spawn PIDFILE OUTFILE CMD...: start CMD detached (own session, immune to the
# caller's Ctrl-C / terminal hangup), stdout+stderr appended to OUTFILE; the
# pid file holds the pid of CMD itself.
spawn() {
    local pidfile="$1" out="$2"
    shift 2
    rm -f "$pidfile"
    local launcher=()
    if command -v setsid >/dev/null 2>&1; then launcher=(setsid); fi
    # The inner bash closes every inherited descriptor above 2 (our flock fd,
    # pipes of make/pytest/CI runners that would otherwise wait for EOF
    # forever), writes its own pid -- which exec keeps -- and execs CMD.
    # shellcheck disable=SC2016  # $$, $0, $@ are expanded by the inner bash
    nohup "${launcher[@]}" bash -c '
        for fd in /proc/$$/fd/*; do
            fd=${fd##*/}
            if [[ $fd =~ ^[0-9]+$ ]] && ((fd > 2)); then eval "exec $fd>&-" 2>/dev/null || true; fi
        done
        echo $$ >"$0.tmp" && mv "$0.tmp" "$0" && exec "$@"' \
        "$pidfile" "$@" </dev/null >>"$out" 2>&1 &
    for _ in $(seq 1 50); do
        [[ -s "$pidfile" ]] && return 0
        sleep 0.1
    done
    die "process did not start (no pid file $pidfile); see $out"
}

# alive PID: process exists and is not a zombie (an exited daemon is
# reparented to PID 1, which may reap it only after a while)
alive() {
    kill -0 "$1" 2>/dev/null || return 1
    local state
    state="$(sed -n 's/^[0-9]* (.*) \([A-Za-z]\).*/\1/p' "/proc/$1/stat" 2>/dev/null || true)"
    [[ "$state" != Z && "$state" != X ]]
}

# stop_pid NAME PID
stop_pid() {
    local name="$1" pid="$2" waited=0
    kill -TERM "$pid" 2>/dev/null || true
    while alive "$pid"; do
        if ((waited >= STOP_TIMEOUT * 10)); then
            log "$name (pid $pid) did not stop within ${STOP_TIMEOUT}s; sending SIGKILL"
            kill -KILL "$pid" 2>/dev/null || true
            sleep 0.5
            break
        fi
        sleep 0.1
        waited=$((waited + 1))
    done
}

show_logs() { # show_logs FILE...
    local f
    for f in "$@"; do
        [[ -s "$f" ]] || continue
        log "---- last 40 lines of $f ----"
        tail -n 40 "$f" >&2
    done
}

# --------------------------------------------------------------------------
# prerequisites

JAVA="java"
[[ -n "${JAVA_HOME:-}" && -x "${JAVA_HOME}/bin/java" ]] && JAVA="$JAVA_HOME/bin/java"

java_problem() { # prints a problem description, or nothing if java >= 17 is usable
    if ! command -v "$JAVA" >/dev/null 2>&1; then
        echo "java (JDK/JRE >= 17) not found: install e.g. 'apt-get install openjdk-17-jre-headless' or set JAVA_HOME"
        return
    fi
    local v major
    v="$("$JAVA" -version 2>&1 | sed -n 's/.*version "\([^"]*\)".*/\1/p' | head -n1)"
    major="${v%%.*}"
    [[ "$major" == 1 ]] && major="$(echo "$v" | cut -d. -f2)" # 1.8 style
    if ! [[ "$major" =~ ^[0-9]+$ ]] || ((major < 17)); then
        echo "java >= 17 required, found '${v:-unknown}' at $(command -v "$JAVA")"
    fi
}

go_problem() {
    if ! command -v go >/dev/null 2>&1; then
        echo "go (>= 1.22) not found: needed once to build FerretDB (https://go.dev/dl/)"
        return
    fi
    local v major minor
    v="$(GOTOOLCHAIN=local go env GOVERSION 2>/dev/null | sed 's/^go//')"
    major="$(echo "$v" | cut -d. -f1)"
    minor="$(echo "$v" | cut -d. -f2 | sed 's/[^0-9].*//')"
    if ! [[ "$major" =~ ^[0-9]+$ && "$minor" =~ ^[0-9]+$ ]] || ((major == 1 && minor < 22)); then
        echo "go >= 1.22 required to build FerretDB, found '${v:-unknown}'"
    fi
}

mvn_problem() {
    command -v mvn >/dev/null 2>&1 ||
        echo "mvn (Apache Maven) not found: needed once to fetch the Kafka jars ('apt-get install maven')"
}

ferretdb_stamp() { checksum "$FERRETDB_SRC/main.go" "$FERRETDB_SRC/go.mod" "$FERRETDB_SRC/go.sum"; }
kafka_stamp() { checksum "$KAFKA_SRC/pom.xml"; }
ferretdb_up_to_date() { [[ -x "$FERRETDB_BIN" && "$(cat "$FERRETDB_BIN.sha256" 2>/dev/null)" == "$(ferretdb_stamp)" ]]; }
kafka_up_to_date() {
    [[ -f "$KAFKA_LIB/.stamp" && "$(cat "$KAFKA_LIB/.stamp")" == "$(kafka_stamp)" ]] &&
        compgen -G "$KAFKA_LIB/kafka_*.jar" >/dev/null
}

check_prereqs() { # check_prereqs COMPONENT... (only what is actually needed now)
    local problems=() p c
    for c in "$@"; do
        case "$c" in
            kafka)
                p="$(java_problem)" && [[ -n "$p" ]] && problems+=("$p")
                if ! kafka_up_to_date; then p="$(mvn_problem)" && [[ -n "$p" ]] && problems+=("$p"); fi
                ;;
            ferretdb)
                if ! ferretdb_up_to_date; then p="$(go_problem)" && [[ -n "$p" ]] && problems+=("$p"); fi
                ;;
        esac
    done
    command -v sha256sum >/dev/null 2>&1 || problems+=("sha256sum (coreutils) not found")
    if ((${#problems[@]})); then
        for p in "${problems[@]}"; do log "missing prerequisite: $p"; done
        exit 1
    fi
}

# --------------------------------------------------------------------------
# build / fetch (shared cache, done once)

kafka_version() { sed -n 's:.*<kafka.version>\(.*\)</kafka.version>.*:\1:p' "$KAFKA_SRC/pom.xml" | head -n1; }
ferretdb_version() { sed -n 's:^require github.com/FerretDB/FerretDB \(v[^ ]*\).*:\1:p' "$FERRETDB_SRC/go.mod" | head -n1; }

_build_ferretdb() {
    ferretdb_up_to_date && return 0
    if [[ -x "$FERRETDB_BIN" ]]; then
        log "rebuilding FerretDB $(ferretdb_version) (deploy/local/ferretdb changed)"
    else
        log "building FerretDB $(ferretdb_version) into $FERRETDB_BIN (first run only, ~1-2 min)"
    fi
    mkdir -p "$CACHE_DIR/bin"
    local t0 tmp="$FERRETDB_BIN.tmp.$$"
    t0="$(now)"
    # GOTOOLCHAIN=local: build with the installed Go, never download another toolchain.
    # -mod=mod: tolerate a go.sum that needs updating with newer Go versions.
    if ! (cd "$FERRETDB_SRC" &&
        GOTOOLCHAIN=local GOFLAGS="-mod=mod -buildvcs=false" CGO_ENABLED=0 \
            go build -trimpath -ldflags="-s -w" -o "$tmp" .); then
        rm -f "$tmp"
        die "FerretDB build failed (see the go output above)"
    fi
    mv -f "$tmp" "$FERRETDB_BIN"
    ferretdb_stamp >"$FERRETDB_BIN.sha256"
    log "FerretDB built in $(($(now) - t0))s"
}

_fetch_kafka() {
    kafka_up_to_date && return 0
    local ver
    ver="$(kafka_version)"
    if [[ -d "$KAFKA_LIB" ]]; then
        log "re-fetching Apache Kafka $ver jars with Maven (deploy/local/kafka/pom.xml changed)"
    else
        log "fetching Apache Kafka $ver jars with Maven into $KAFKA_LIB (first run only, ~1 min)"
    fi
    mkdir -p "$CACHE_DIR/kafka"
    local t0 tmp="$CACHE_DIR/kafka/lib.tmp.$$" mvnlog="$CACHE_DIR/kafka/mvn.log"
    t0="$(now)"
    rm -rf "$tmp"
    if ! mvn -B -q -Dstyle.color=never -f "$KAFKA_SRC/pom.xml" dependency:copy-dependencies \
        -DoutputDirectory="$tmp" >"$mvnlog" 2>&1; then
        rm -rf "$tmp"
        show_logs "$mvnlog"
        die "Maven could not fetch the Kafka jars (network? ~/.m2/settings.xml mirror?); full output in $mvnlog"
    fi
    compgen -G "$tmp/kafka_*.jar" >/dev/null || die "Maven ran but no kafka_*.jar in $tmp"
    kafka_stamp >"$tmp/.stamp"
    rm -rf "$KAFKA_LIB"
    mv "$tmp" "$KAFKA_LIB"
    log "Kafka $ver jars fetched in $(($(now) - t0))s ($(find "$KAFKA_LIB" -name '*.jar' | wc -l) jars)"
}

ensure_ferretdb_built() { ferretdb_up_to_date || with_lock "$CACHE_DIR/.build.lock" _build_ferretdb; }
ensure_kafka_fetched() { kafka_up_to_date || with_lock "$CACHE_DIR/.build.lock" _fetch_kafka; }

# --------------------------------------------------------------------------
# Kafka

KAFKA_DIR="$INFRA_DIR/kafka"
KAFKA_PIDFILE="$KAFKA_DIR/kafka.pid"
KAFKA_LOGS="$KAFKA_DIR/logs"
KAFKA_DATA="$KAFKA_DIR/data"
KAFKA_PROPS="$KAFKA_DIR/server.properties"
KAFKA_OUT="$KAFKA_LOGS/kafka.out"
KAFKA_SERVER_LOG="$KAFKA_LOGS/server.log"

kafka_pid() { pid_of kafka "$KAFKA_PROPS"; }

write_kafka_props() {
    cat >"$KAFKA_PROPS" <<EOF
# Generated by deploy/local/infra.sh on every start -- edits are overwritten.
process.roles=broker,controller
node.id=1
controller.quorum.voters=1@$HOST:$KAFKA_CONTROLLER_PORT
listeners=PLAINTEXT://$HOST:$KAFKA_PORT,CONTROLLER://$HOST:$KAFKA_CONTROLLER_PORT
advertised.listeners=PLAINTEXT://$HOST:$KAFKA_PORT
inter.broker.listener.name=PLAINTEXT
controller.listener.names=CONTROLLER
listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT
log.dirs=$KAFKA_DATA

# single node
offsets.topic.replication.factor=1
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
min.insync.replicas=1
default.replication.factor=1
# fewer internal partitions than the defaults (50) -> faster first group join / first transaction
offsets.topic.num.partitions=5
transaction.state.log.num.partitions=5

num.partitions=3
auto.create.topics.enable=true
group.initial.rebalance.delay.ms=0

# keep topics forever (event store)
log.retention.hours=-1
log.retention.ms=-1
log.retention.bytes=-1

# small machine
num.network.threads=2
num.io.threads=4
log.cleaner.dedupe.buffer.size=33554432
EOF
}

format_kafka_storage() {
    [[ -f "$KAFKA_DATA/meta.properties" ]] && return 0
    local cid
    cid="$(cat "$KAFKA_DIR/cluster.id" 2>/dev/null || true)"
    # 16 random bytes as 22-char base64url (Kafka's Uuid format); like
    # Uuid.randomUuid(), never start with '-' (it would parse as a CLI option)
    while ! [[ "$cid" =~ ^[A-Za-z0-9_][A-Za-z0-9_-]{21}$ ]]; do
        cid="$(head -c 16 /dev/urandom | base64 | tr '+/' '-_' | tr -d '=\n')"
    done
    echo "$cid" >"$KAFKA_DIR/cluster.id"
    log "formatting Kafka storage in $KAFKA_DATA (cluster id $cid)"
    if ! "$JAVA" -Dlog4j.configuration="file:$KAFKA_SRC/log4j.properties" -Dkafka.logs.dir="$KAFKA_LOGS" \
        -cp "$KAFKA_LIB/*" kafka.tools.StorageTool format \
        -t "$cid" -c "$KAFKA_PROPS" --ignore-formatted >>"$KAFKA_OUT" 2>&1; then
        show_logs "$KAFKA_OUT"
        die "Kafka storage format failed"
    fi
}

# Kafka protocol round trip (Metadata v0, stdlib only): succeeds once the
# broker answers requests and lists at least one live broker.
kafka_probe() {
    command -v python3 >/dev/null 2>&1 || return 0 # fall back to the log line alone
    python3 - "$HOST" "$KAFKA_PORT" <<'PY' 2>/dev/null
import socket, struct, sys
host, port = sys.argv[1], int(sys.argv[2])
cid = b"infra-probe"
# header: api_key=3 (Metadata), api_version=0, correlation_id=7, client_id; body: [] = all topics
req = struct.pack(">hhih", 3, 0, 7, len(cid)) + cid + struct.pack(">i", 0)
with socket.create_connection((host, port), timeout=3) as s:
    s.settimeout(3)
    s.sendall(struct.pack(">i", len(req)) + req)
    def read(n):
        buf = b""
        while len(buf) < n:
            chunk = s.recv(n - len(buf))
            if not chunk:
                raise EOFError
            buf += chunk
        return buf
    (size,) = struct.unpack(">i", read(4))
    body = read(size)
corr, nbrokers = struct.unpack(">ii", body[:8])
sys.exit(0 if corr == 7 and nbrokers >= 1 else 1)
PY
}

kafka_ready() { # kafka_ready LOG_OFFSET
    port_open "$KAFKA_PORT" || return 1
    # the startup line must come from this run (log bytes after LOG_OFFSET)
    local off="$1" size=0
    [[ -f "$KAFKA_SERVER_LOG" ]] && size="$(stat -c %s "$KAFKA_SERVER_LOG")"
    ((size < off)) && off=0 # rotated meanwhile
    tail -c +"$((off + 1))" "$KAFKA_SERVER_LOG" 2>/dev/null | grep -q "Kafka Server started" || return 1
    kafka_probe
}

wait_kafka() { # wait_kafka PID LOG_OFFSET
    local pid="$1" off="$2" deadline
    deadline=$(($(now) + KAFKA_START_TIMEOUT))
    while :; do
        if ! alive "$pid"; then
            show_logs "$KAFKA_SERVER_LOG" "$KAFKA_OUT"
            rm -f "$KAFKA_PIDFILE"
            die "Kafka exited during startup (logs above; dir $KAFKA_DIR)"
        fi
        kafka_ready "$off" && return 0
        if (($(now) >= deadline)); then
            show_logs "$KAFKA_SERVER_LOG" "$KAFKA_OUT"
            log "Kafka not ready after ${KAFKA_START_TIMEOUT}s; stopping it"
            stop_pid kafka "$pid"
            rm -f "$KAFKA_PIDFILE"
            die "Kafka failed to start (logs above; dir $KAFKA_DIR)"
        fi
        sleep 0.5
    done
}

_start_kafka() {
    local pid t0 off=0
    pid="$(kafka_pid)"
    if [[ -n "$pid" ]]; then
        if kafka_probe && port_open "$KAFKA_PORT"; then
            log "kafka already running (pid $pid) on $HOST:$KAFKA_PORT"
            return 0
        fi
        log "kafka (pid $pid) is running but not ready yet; waiting"
        wait_kafka "$pid" 0
        log "kafka ready on $HOST:$KAFKA_PORT"
        return 0
    fi
    rm -f "$KAFKA_PIDFILE"
    for p in "$KAFKA_PORT" "$KAFKA_CONTROLLER_PORT"; do
        port_open "$p" && die "port $HOST:$p is already in use by another process (another instance? set KAFKA_PORT / KAFKA_CONTROLLER_PORT / PORTAL_INFRA_DIR)"
    done
    ensure_kafka_fetched
    mkdir -p "$KAFKA_LOGS" "$KAFKA_DATA"
    write_kafka_props
    printf '\n==== %s infra.sh start ====\n' "$(date -Is)" >>"$KAFKA_OUT"
    format_kafka_storage
    [[ -f "$KAFKA_SERVER_LOG" ]] && off="$(stat -c %s "$KAFKA_SERVER_LOG")"
    log "starting kafka on $HOST:$KAFKA_PORT (controller $KAFKA_CONTROLLER_PORT, data $KAFKA_DATA)"
    t0="$(now)"
    # shellcheck disable=SC2086  # KAFKA_HEAP_OPTS is a list of JVM options
    spawn "$KAFKA_PIDFILE" "$KAFKA_OUT" \
        "$JAVA" $KAFKA_HEAP_OPTS -XX:+UseG1GC -XX:MaxGCPauseMillis=20 -XX:+ExitOnOutOfMemoryError \
        -Djava.awt.headless=true \
        -Dlog4j.configuration="file:$KAFKA_SRC/log4j.properties" \
        -Dkafka.logs.dir="$KAFKA_LOGS" \
        -cp "$KAFKA_LIB/*" kafka.Kafka "$KAFKA_PROPS"
    pid="$(cat "$KAFKA_PIDFILE")"
    wait_kafka "$pid" "$off"
    log "kafka ready on $HOST:$KAFKA_PORT (pid $pid, Kafka $(kafka_version), $(($(now) - t0))s)"
}

_stop_kafka() {
    local pid
    pid="$(kafka_pid)"
    if [[ -z "$pid" ]]; then
        rm -f "$KAFKA_PIDFILE"
        log "kafka not running"
        return 0
    fi
    log "stopping kafka (pid $pid)"
    stop_pid kafka "$pid"
    rm -f "$KAFKA_PIDFILE"
    log "kafka stopped"
}

# --------------------------------------------------------------------------
# FerretDB

FERRETDB_DIR="$INFRA_DIR/ferretdb"
FERRETDB_PIDFILE="$FERRETDB_DIR/ferretdb.pid"
FERRETDB_DATA="$FERRETDB_DIR/data"
FERRETDB_LOG="$FERRETDB_DIR/logs/ferretdb.log"

ferretdb_pid() { pid_of ferretdb "$FERRETDB_DATA"; }

wait_ferretdb() { # wait_ferretdb PID
    local pid="$1" deadline
    deadline=$(($(now) + FERRETDB_START_TIMEOUT))
    while :; do
        if ! alive "$pid"; then
            show_logs "$FERRETDB_LOG"
            rm -f "$FERRETDB_PIDFILE"
            die "FerretDB exited during startup (logs above)"
        fi
        port_open "$FERRETDB_PORT" && return 0
        if (($(now) >= deadline)); then
            show_logs "$FERRETDB_LOG"
            log "FerretDB not ready after ${FERRETDB_START_TIMEOUT}s; stopping it"
            stop_pid ferretdb "$pid"
            rm -f "$FERRETDB_PIDFILE"
            die "FerretDB failed to start (logs above)"
        fi
        sleep 0.2
    done
}

_start_ferretdb() {
    local pid t0
    pid="$(ferretdb_pid)"
    if [[ -n "$pid" ]]; then
        if port_open "$FERRETDB_PORT"; then
            log "ferretdb already running (pid $pid) on $HOST:$FERRETDB_PORT"
            ferretdb_up_to_date || log "note: FerretDB sources changed since this process started; run 'restart ferretdb' to use the new build"
            return 0
        fi
        log "ferretdb (pid $pid) is running but not ready yet; waiting"
        wait_ferretdb "$pid"
        log "ferretdb ready on $HOST:$FERRETDB_PORT"
        return 0
    fi
    rm -f "$FERRETDB_PIDFILE"
    port_open "$FERRETDB_PORT" &&
        die "port $HOST:$FERRETDB_PORT is already in use by another process (another instance or a real mongod? set FERRETDB_PORT / PORTAL_INFRA_DIR)"
    ensure_ferretdb_built
    mkdir -p "$FERRETDB_DATA" "$(dirname "$FERRETDB_LOG")"
    printf '\n==== %s infra.sh start ====\n' "$(date -Is)" >>"$FERRETDB_LOG"
    log "starting ferretdb on $HOST:$FERRETDB_PORT (data $FERRETDB_DATA)"
    t0="$(now)"
    spawn "$FERRETDB_PIDFILE" "$FERRETDB_LOG" \
        "$FERRETDB_BIN" -listen "$HOST:$FERRETDB_PORT" -sqlite-dir "$FERRETDB_DATA" -log-level "$FERRETDB_LOG_LEVEL"
    pid="$(cat "$FERRETDB_PIDFILE")"
    wait_ferretdb "$pid"
    log "ferretdb ready on $HOST:$FERRETDB_PORT (pid $pid, $(($(now) - t0))s)"
}

_stop_ferretdb() {
    local pid
    pid="$(ferretdb_pid)"
    if [[ -z "$pid" ]]; then
        rm -f "$FERRETDB_PIDFILE"
        log "ferretdb not running"
        return 0
    fi
    log "stopping ferretdb (pid $pid)"
    stop_pid ferretdb "$pid"
    rm -f "$FERRETDB_PIDFILE"
    log "ferretdb stopped"
}

# --------------------------------------------------------------------------
# commands

start_one() { with_lock "$INFRA_DIR/$1/.lock" "_start_$1"; }
stop_one() {
    [[ -d "$INFRA_DIR/$1" ]] || { log "$1 not running"; return 0; }
    with_lock "$INFRA_DIR/$1/.lock" "_stop_$1"
}

status_one() { # prints a line, returns 0 if running
    local pid port
    case "$1" in
        kafka) pid="$(kafka_pid)" port="$KAFKA_PORT" ;;
        ferretdb) pid="$(ferretdb_pid)" port="$FERRETDB_PORT" ;;
    esac
    if [[ -n "$pid" ]]; then
        if port_open "$port"; then
            printf '%-9s running  (pid %s, %s:%s, dir %s)\n' "$1" "$pid" "$HOST" "$port" "$INFRA_DIR/$1"
        else
            printf '%-9s starting (pid %s, %s:%s not answering yet)\n' "$1" "$pid" "$HOST" "$port"
            return 1
        fi
    else
        printf '%-9s stopped\n' "$1"
        return 1
    fi
}

env_one() {
    case "$1" in
        kafka) echo "export KAFKA_BOOTSTRAP_SERVERS=$HOST:$KAFKA_PORT" ;;
        ferretdb) echo "export MONGODB_URI=mongodb://$HOST:$FERRETDB_PORT/" ;;
    esac
}

main() {
    local cmd="${1:-}" target="${2:-all}" components=() c rc=0
    case "$target" in
        all) components=(kafka ferretdb) ;;
        kafka | ferretdb) components=("$target") ;;
        *) usage ;;
    esac
    (($# <= 2)) || usage
    case "$cmd" in
        start)
            check_prereqs "${components[@]}"
            # build/fetch everything first so the slow first run fails fast
            for c in "${components[@]}"; do
                case "$c" in
                    kafka) ensure_kafka_fetched ;;
                    ferretdb) ensure_ferretdb_built ;;
                esac
            done
            for c in "${components[@]}"; do start_one "$c"; done
            ;;
        stop)
            for c in "${components[@]}"; do stop_one "$c"; done
            ;;
        restart)
            for c in "${components[@]}"; do stop_one "$c"; done
            check_prereqs "${components[@]}"
            for c in "${components[@]}"; do start_one "$c"; done
            ;;
        status)
            for c in "${components[@]}"; do status_one "$c" || rc=3; done
            return "$rc"
            ;;
        env)
            for c in "${components[@]}"; do env_one "$c"; done
            ;;
        *) usage ;;
    esac
}

main "$@"
