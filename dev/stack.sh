#!/usr/bin/env bash
# Local development stack: MariaDB on 127.0.0.1:3306 and a single-node Kafka
# (KRaft) on 127.0.0.1:9092, without Docker or systemd. State lives in
# <repo>/.run/. Run without arguments for the subcommands. A second, private
# stack runs beside it with STACK_DIR, STACK_DB_PORT, STACK_KAFKA_PORT and
# STACK_CONTROLLER_PORT set (STACK_KAFKA_LIBS reuses fetched jars, STACK_KAFKA_HEAP
# sizes the broker). A pair that requires TLS and passwords (dev/stack-secure.sh)
# and a primary with a read replica (dev/stack-replica.sh) run under the same
# run directory on ports of their own.
set -euo pipefail

DEV_DIR=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(dirname -- "$DEV_DIR")
RUN_DIR=${STACK_DIR:-$ROOT/.run}
PATH=$PATH:/usr/sbin:/sbin # mariadbd lives in /usr/sbin

DB_PORT=${STACK_DB_PORT:-3306}
DB_DIR=$RUN_DIR/mariadb
DB_PID=$DB_DIR/mariadb.pid
DB_LOG=$DB_DIR/mariadb.err
DB_INSTALL_ARGS=(--auth-root-authentication-method=normal) # root over TCP, no password
DB_EXTRA=()                                                # more mariadbd flags (later ones win)
DB_PING_ARGS=(--protocol=tcp -h127.0.0.1)                  # how db_ping reaches the server

KAFKA_PORT=${STACK_KAFKA_PORT:-9092}
CONTROLLER_PORT=${STACK_CONTROLLER_PORT:-9093}
BOOTSTRAP=127.0.0.1:$KAFKA_PORT
KAFKA_SRC=$DEV_DIR/kafka
KAFKA_DIR=$RUN_DIR/kafka
KAFKA_LIBS=${STACK_KAFKA_LIBS:-$KAFKA_DIR/libs}
KAFKA_PROPS=$KAFKA_DIR/server.properties
KAFKA_PID=$KAFKA_DIR/kafka.pid
KAFKA_LOG=$KAFKA_DIR/server.log
KAFKA_TOPICS="" # the broker's topics, filled by kafka_list_topics
KAFKA_FORMAT_ARGS=()  # more StorageTool format options
TOPIC_CMD_ARGS=()     # more TopicCommand options (a --command-config)
KAFKA_JVM_ARGS=(-XX:+UseG1GC -XX:MaxGCPauseMillis=20)

UMS_TOPIC=${UMS_TOPIC:-user-added}
UMS_DLQ_TOPIC=${UMS_DLQ_TOPIC:-user-added.dlq}

STOP_TIMEOUT=30 # seconds from SIGTERM to SIGKILL

say() { printf '%s\n' "$*"; }
die() { printf 'stack: %s\n' "$*" >&2; exit 1; }

die_with_log() { # log message: show the log's last errors and lines, then die
  if [[ -f $1 ]]; then
    printf -- '--- last errors in %s ---\n' "$1" >&2
    grep -E -A2 'ERROR|FATAL' "$1" | tail -n 12 >&2 || true
    printf -- '--- last lines of %s ---\n' "$1" >&2
    tail -n 15 "$1" >&2
  fi
  die "$2"
}

wait_until() { # seconds command...: poll until the command succeeds
  local deadline=$((SECONDS + $1))
  shift
  until "$@"; do
    ((SECONDS < deadline)) || return 1
    sleep 0.2
  done
}

port_open() { timeout 1 bash -c "exec 3<>/dev/tcp/127.0.0.1/$1" 2>/dev/null; }

alive() { # pid: running, and not a zombie
  [[ -e /proc/$1 ]] && ! grep -q '^State:.*Z' "/proc/$1/status" 2>/dev/null
}

live_pid() { # pidfile pattern: print the pid if that process runs and matches
  local pid
  pid=$(cat "$1" 2>/dev/null) || return 1
  [[ $pid =~ ^[0-9]+$ ]] && alive "$pid" || return 1
  grep -qaF -- "$2" "/proc/$pid/cmdline" || return 1
  say "$pid"
}

secret_in() { # file: print the password kept there, made (random, owner-only) on first use
  if [[ ! -s $1 ]]; then
    (umask 077 && mkdir -p "$(dirname -- "$1")" && openssl rand -hex 16 >"$1.tmp" && mv "$1.tmp" "$1")
  fi
  cat "$1"
}

LAUNCHED="" # pid of the last launch

launch() { # pidfile log command...: run detached in its own session
  local pidfile=$1 log=$2
  shift 2
  # No job control here, so setsid does not fork and $! is the daemon itself.
  # fd 9 (the lock) must not outlive this script.
  setsid nohup "$@" >>"$log" 2>&1 </dev/null 9>&- &
  LAUNCHED=$!
  say "$LAUNCHED" >"$pidfile"
}

launched_ok() { # log name: fail fast if the launched process died
  alive "$LAUNCHED" || die_with_log "$1" "$2: exited during start-up"
}

stop_service() { # name pidfile pattern port
  local pid
  if ! pid=$(live_pid "$2" "$3"); then
    rm -f "$2"
    if port_open "$4"; then
      say "$1: 127.0.0.1:$4 answers but was not started by this script; left alone"
    else
      say "$1: not running"
    fi
    return 0
  fi
  kill -TERM "$pid" 2>/dev/null || true
  if ! wait_until "$STOP_TIMEOUT" not_alive "$pid"; then
    say "$1: still running ${STOP_TIMEOUT}s after SIGTERM; sending SIGKILL"
    kill -KILL "$pid" 2>/dev/null || true
    wait_until 5 not_alive "$pid" || die "$1: pid $pid survived SIGKILL"
  fi
  rm -f "$2"
  say "$1: stopped (pid $pid)"
}

not_alive() { ! alive "$1"; }

describe() { # pidfile pattern port: what runs there; fails if nothing answers
  local pid
  if pid=$(live_pid "$1" "$2"); then
    say "running (pid $pid) on 127.0.0.1:$3"
  elif port_open "$3"; then
    say "127.0.0.1:$3 answers (not started by this script)"
  else
    say "stopped"
    return 1
  fi
}

# ---- MariaDB ---------------------------------------------------------------

use_mariadb() { # dir port: point the MariaDB functions at another server
  DB_DIR=$1 DB_PORT=$2 DB_PID=$1/mariadb.pid DB_LOG=$1/mariadb.err
}

db_ping() {
  # -P before the protocol: a port given later would force TCP.
  mariadb-admin --no-defaults -P"$DB_PORT" "${DB_PING_ARGS[@]}" -uroot \
    --connect-timeout=2 ping >/dev/null 2>&1
}

db_ready() { launched_ok "$DB_LOG" mariadb && db_ping; }

install_mariadb() {
  command -v mariadbd >/dev/null && return
  say "mariadb: installing mariadb-server with apt-get"
  # Other installs may hold the dpkg lock: wait for it rather than fail.
  apt-get -o DPkg::Lock::Timeout=600 update -qq
  DEBIAN_FRONTEND=noninteractive DEBCONF_NOWARNINGS=yes \
    apt-get -o DPkg::Lock::Timeout=600 install -y -qq mariadb-server >/dev/null
}

init_mariadb() {
  [[ -d $DB_DIR/mysql ]] && return
  say "mariadb: initialising $DB_DIR"
  mkdir -p "$DB_DIR"
  mariadb-install-db --no-defaults --user="$(id -un)" --datadir="$DB_DIR" \
    "${DB_INSTALL_ARGS[@]}" --skip-test-db \
    >"$DB_DIR/install.log" 2>&1 || {
    rm -rf "$DB_DIR/mysql"
    die_with_log "$DB_DIR/install.log" "mariadb: mariadb-install-db failed"
  }
}

start_mariadb() {
  if port_open "$DB_PORT"; then
    say "mariadb: reused, $(describe_mariadb)"
    return
  fi
  install_mariadb
  init_mariadb
  # Test server: no durability across OS crashes (flush at commit=2), MySQL 8's
  # default sql_mode so that SQL stays portable, UTC, no DNS lookups.
  launch "$DB_PID" "$DB_DIR/mariadbd.out" mariadbd --no-defaults \
    --user="$(id -un)" --datadir="$DB_DIR" --socket="$DB_DIR/mariadb.sock" \
    --pid-file="$DB_PID" --log-error="$DB_LOG" \
    --bind-address=127.0.0.1 --port="$DB_PORT" --skip-name-resolve \
    --character-set-server=utf8mb4 --collation-server=utf8mb4_general_ci \
    --max-connections=500 --max-allowed-packet=64M --default-time-zone=+00:00 \
    --sql-mode=ONLY_FULL_GROUP_BY,STRICT_TRANS_TABLES,NO_ZERO_IN_DATE,NO_ZERO_DATE,ERROR_FOR_DIVISION_BY_ZERO,NO_ENGINE_SUBSTITUTION \
    --innodb-buffer-pool-size=256M --innodb-flush-log-at-trx-commit=2 "${DB_EXTRA[@]}"
  wait_until 30 db_ready ||
    die_with_log "$DB_LOG" "mariadb: no answer on 127.0.0.1:$DB_PORT within 30 s"
  say "mariadb: started (pid $LAUNCHED) on 127.0.0.1:$DB_PORT"
}

stop_mariadb() { stop_service mariadb "$DB_PID" mariadbd "$DB_PORT"; }
describe_mariadb() { describe "$DB_PID" mariadbd "$DB_PORT"; }

# ---- Kafka -----------------------------------------------------------------

use_kafka() { # dir port controller-port: point the Kafka functions at another broker
  KAFKA_DIR=$1 KAFKA_PORT=$2 CONTROLLER_PORT=$3 BOOTSTRAP=127.0.0.1:$2
  KAFKA_PROPS=$1/server.properties KAFKA_PID=$1/kafka.pid KAFKA_LOG=$1/server.log
}

kafka_java() { # main-class args...: run a Kafka tool, logging to tools.log
  timeout 60 java -Xmx256m -XX:TieredStopAtLevel=1 -XX:+UseSerialGC \
    -Dlog4j2.configurationFile="$KAFKA_SRC/log4j2.properties" \
    -Dums.log.file="$KAFKA_DIR/tools.log" -cp "$KAFKA_LIBS/*" "$@"
}

topic_cmd() {
  kafka_java org.apache.kafka.tools.TopicCommand --bootstrap-server "$BOOTSTRAP" "${TOPIC_CMD_ARGS[@]}" "$@"
}

kafka_libs_current() { [[ -f $KAFKA_LIBS/.stamp && ! $KAFKA_SRC/pom.xml -nt $KAFKA_LIBS/.stamp ]]; }

kafka_libs() { # copy the jars with Maven, unless the pom is unchanged
  kafka_libs_current && return
  say "kafka: fetching jars with Maven"
  mkdir -p "$KAFKA_DIR"
  rm -rf "$KAFKA_LIBS.tmp"
  mvn -B -f "$KAFKA_SRC/pom.xml" dependency:copy-dependencies -DincludeScope=runtime \
    -DoutputDirectory="$KAFKA_LIBS.tmp" >"$KAFKA_DIR/maven.log" 2>&1 ||
    die_with_log "$KAFKA_DIR/maven.log" "kafka: mvn dependency:copy-dependencies failed"
  rm -rf "$KAFKA_LIBS"
  mv "$KAFKA_LIBS.tmp" "$KAFKA_LIBS"
  touch "$KAFKA_LIBS/.stamp"
}

kafka_config() { # the effective properties (the secure broker replaces this function), with an absolute log dir and our ports
  mkdir -p "$KAFKA_DIR/data"
  {
    sed -e "s/:9092\b/:$KAFKA_PORT/g" -e "s/:9093\b/:$CONTROLLER_PORT/g" "$KAFKA_SRC/server.properties"
    say "log.dirs=$KAFKA_DIR/data"
  } >"$KAFKA_PROPS"
}

kafka_format() {
  [[ -f $KAFKA_DIR/data/meta.properties ]] && return
  [[ -s $KAFKA_DIR/cluster.id ]] ||
    kafka_java kafka.tools.StorageTool random-uuid >"$KAFKA_DIR/cluster.id"
  kafka_java kafka.tools.StorageTool format --standalone -g \
    -t "$(<"$KAFKA_DIR/cluster.id")" -c "$KAFKA_PROPS" "${KAFKA_FORMAT_ARGS[@]}" \
    >"$KAFKA_DIR/format.log" 2>&1 ||
    die_with_log "$KAFKA_DIR/format.log" "kafka: formatting the storage failed"
  say "kafka: storage formatted (cluster id $(<"$KAFKA_DIR/cluster.id"))"
}

kafka_port_ready() { launched_ok "$KAFKA_LOG" kafka && port_open "$KAFKA_PORT"; }

kafka_list_topics() { KAFKA_TOPICS=$(topic_cmd --list 2>/dev/null); }

launch_kafka() {
  kafka_config
  kafka_format
  launch "$KAFKA_PID" "$KAFKA_DIR/kafka.out" java -Xms256m -Xmx"${STACK_KAFKA_HEAP:-1g}" \
    "${KAFKA_JVM_ARGS[@]}" -Djava.awt.headless=true \
    -Dlog4j2.configurationFile="$KAFKA_SRC/log4j2.properties" \
    -Dums.log.file="$KAFKA_LOG" -cp "$KAFKA_LIBS/*" kafka.Kafka "$KAFKA_PROPS"
  # The broker opens 9092 only once it is registered and unfenced: then it is ready.
  wait_until 60 kafka_port_ready ||
    die_with_log "$KAFKA_LOG" "kafka: no answer on $BOOTSTRAP within 60 s"
}

start_kafka() {
  if port_open "$KAFKA_PORT"; then
    say "kafka: reused, $(describe_kafka)"
    return
  fi
  kafka_libs
  launch_kafka
  say "kafka: started (pid $LAUNCHED) on $BOOTSTRAP"
}

stop_kafka() { stop_service kafka "$KAFKA_PID" kafka.Kafka "$KAFKA_PORT"; }
describe_kafka() { describe "$KAFKA_PID" kafka.Kafka "$KAFKA_PORT"; }

ensure_topic() { # name config...: 3 partitions
  local name=$1 config configs=()
  shift
  for config; do configs+=(--config "$config"); done
  if grep -qxF -- "$name" <<<"$KAFKA_TOPICS"; then
    say "kafka: topic $name exists"
    return
  fi
  topic_cmd --create --if-not-exists --topic "$name" --partitions 3 \
    --replication-factor 1 "${configs[@]}" >/dev/null ||
    die "kafka: creating topic $name failed"
  say "kafka: topic $name created"
}

ensure_topics() {
  kafka_libs # TopicCommand needs them even when the broker is reused
  wait_until 60 kafka_list_topics ||
    die_with_log "$KAFKA_LOG" "kafka: $BOOTSTRAP answers no metadata request within 60 s"
  ensure_topic "$UMS_TOPIC" cleanup.policy=compact
  # Dead letters may lack a key, which a compacted topic refuses: keep forever. A dead
  # letter is its record plus our headers: the DLQ takes 64 KiB more than the broker's
  # default of 1048588 bytes, which the topic has, and any timestamp (a dead letter
  # keeps its record's).
  ensure_topic "$UMS_DLQ_TOPIC" retention.ms=-1 max.message.bytes=1114124 \
    message.timestamp.after.max.ms=9223372036854775807
}

# shellcheck source=dev/stack-secure.sh
source "$DEV_DIR/stack-secure.sh"
# shellcheck source=dev/stack-replica.sh
source "$DEV_DIR/stack-replica.sh"

# ---- commands ----------------------------------------------------------------

up() {
  local fetch=""
  if ! kafka_libs_current; then # download the jars while apt-get works
    kafka_libs &
    fetch=$!
  fi
  start_mariadb
  [[ -z $fetch ]] || wait "$fetch" || exit 1
  start_kafka
  ensure_topics
}

status() { # exit 1 unless both answer
  local db kafka rc=0
  db=$(describe_mariadb) || rc=1
  kafka=$(describe_kafka) || rc=1
  printf 'mariadb: %s\nkafka: %s\n' "$db" "$kafka"
  return "$rc"
}

usage() {
  cat <<EOF
usage: ${0##*/} COMMAND
  up                 start MariaDB and Kafka (or reuse what answers), create topics
  down               stop what this script started
  status             what runs (exit 1 if a service is down)
  start-mariadb | stop-mariadb | restart-mariadb
  start-kafka   | stop-kafka   | restart-kafka    (data is kept)
  up-secure | down-secure | status-secure
                     the pair requiring TLS and SCRAM passwords, under .run/secure (\$STACK_DIR/secure)
                     (ports: STACK_SECURE_DB_PORT 3316, STACK_SECURE_DB_WRONG_PORT 3317,
                     STACK_SECURE_KAFKA_PORT 9192, STACK_SECURE_KAFKA_WRONG_PORT 9194,
                     STACK_SECURE_KAFKA_MTLS_PORT 9195, STACK_SECURE_CONTROLLER_PORT 9193)
  up-replica | down-replica | status-replica | pause-replica | resume-replica
                     a MariaDB primary with a GTID read replica, under .run/replica (\$STACK_DIR/replica)
                     (ports: STACK_REPLICA_PRIMARY_PORT 3326, STACK_REPLICA_PORT 3327);
                     pause/resume stop and start the replica's SQL thread
Topics: \$UMS_TOPIC (default user-added), \$UMS_DLQ_TOPIC (default user-added.dlq).
EOF
}

run() {
  case ${1:-} in
    up) up ;;
    down)
      stop_kafka
      stop_mariadb
      ;;
    status) status ;;
    start-mariadb) start_mariadb ;;
    stop-mariadb) stop_mariadb ;;
    restart-mariadb)
      stop_mariadb
      start_mariadb
      ;;
    start-kafka) start_kafka ;;
    stop-kafka) stop_kafka ;;
    restart-kafka)
      stop_kafka
      start_kafka
      ;;
    up-secure) up_secure ;;
    down-secure) down_secure ;;
    status-secure) status_secure ;;
    up-replica) up_replica ;;
    down-replica) down_replica ;;
    status-replica) status_replica ;;
    pause-replica) replica_sql "STOP SLAVE SQL_THREAD" ;;
    resume-replica) replica_sql "START SLAVE SQL_THREAD" ;;
    *)
      usage >&2
      return 2
      ;;
  esac
}

main() {
  local start ms
  start=$(date +%s%N)
  mkdir -p "$RUN_DIR"
  if [[ ${1:-} != status* ]]; then # one stack.sh at a time changes the stack
    exec 9>"$RUN_DIR/stack.lock"
    flock -w 300 9 || die "another dev/stack.sh still holds $RUN_DIR/stack.lock"
  fi
  run "$@"
  ms=$((($(date +%s%N) - start) / 1000000))
  [[ $1 == status* ]] || printf 'stack: %s done in %d.%d s\n' "$1" $((ms / 1000)) $((ms % 1000 / 100))
}

main "$@"
