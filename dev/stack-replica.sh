# Sourced by dev/stack.sh: a MariaDB primary and a read replica of it (GTID).
# The pair is its own, on ports of its own, rather than a replica of the shared
# server on 3306: that one may have been started without a binary log, and other
# users of it need neither a restart nor the binlog's cost. Root logs in over TCP
# without a password on both, like the shared server; the replica is read-only.
# State lives in $RUN_DIR/replica/; re-running reuses it and re-points the replica
# at the primary's current port.

REPLICA_DIR=$RUN_DIR/replica
REPLICA_PRIMARY_PORT=${STACK_REPLICA_PRIMARY_PORT:-3326}
REPLICA_PORT=${STACK_REPLICA_PORT:-3327}
REPLICA_USER=ums_repl
REPLICA_WAIT=30 # seconds for the replica's threads to run

use_primary() {
  use_mariadb "$REPLICA_DIR/primary" "$REPLICA_PRIMARY_PORT"
  DB_EXTRA=(--server-id=1 --log-bin="$REPLICA_DIR/primary/binlog" --binlog-format=ROW
    --gtid-strict-mode=ON --innodb-buffer-pool-size=64M --max-connections=200)
}

use_replica() {
  use_mariadb "$REPLICA_DIR/replica" "$REPLICA_PORT"
  DB_EXTRA=(--server-id=2 --relay-log="$REPLICA_DIR/replica/relay" --gtid-strict-mode=ON
    --read-only=ON --innodb-buffer-pool-size=64M --max-connections=200)
}

db_sql() { # sql: as root on the server DB_PORT names
  mariadb --no-defaults --protocol=tcp -h127.0.0.1 -P"$DB_PORT" -uroot --connect-timeout=5 \
    --batch --skip-column-names -e "$1"
}

replica_sql() { # sql: on the replica
  use_replica
  db_sql "$1" || die "replica: '$1' failed on 127.0.0.1:$DB_PORT"
}

replica_threads_run() { # both replication threads report Yes
  local status
  status=$(slave_status) || return 1
  grep -q 'Slave_IO_Running: Yes' <<<"$status" && grep -q 'Slave_SQL_Running: Yes' <<<"$status"
}

slave_status() { # SHOW SLAVE STATUS as "Field: value" lines
  mariadb --no-defaults --protocol=tcp -h127.0.0.1 -P"$DB_PORT" -uroot --connect-timeout=5 \
    -e "SHOW SLAVE STATUS\G" 2>/dev/null
}

replica_errors() { slave_status | grep -E 'Last_(IO|SQL)_Error|_Running:|Gtid_IO_Pos' || true; }

point_replica() { # (re)start replication from the primary's port, keeping the GTID position
  local password
  password=$(secret_in "$REPLICA_DIR/repl.password")
  use_primary
  db_sql "CREATE USER IF NOT EXISTS '$REPLICA_USER'@'%' IDENTIFIED BY '$password';
    ALTER USER '$REPLICA_USER'@'%' IDENTIFIED BY '$password';
    GRANT REPLICATION SLAVE ON *.* TO '$REPLICA_USER'@'%';" ||
    die "replica: creating the replication user on the primary failed"
  use_replica
  db_sql "STOP SLAVE;
    CHANGE MASTER TO MASTER_HOST='127.0.0.1', MASTER_PORT=$REPLICA_PRIMARY_PORT,
      MASTER_USER='$REPLICA_USER', MASTER_PASSWORD='$password',
      MASTER_USE_GTID=slave_pos, MASTER_CONNECT_RETRY=1;
    START SLAVE;" || die "replica: CHANGE MASTER TO on 127.0.0.1:$REPLICA_PORT failed"
  if ! wait_until "$REPLICA_WAIT" replica_threads_run; then
    replica_errors >&2
    die "replica: replication threads not running within $REPLICA_WAIT s"
  fi
}

up_replica() {
  use_primary
  start_mariadb
  use_replica
  start_mariadb
  point_replica
  say "replica: 127.0.0.1:$REPLICA_PORT replicates 127.0.0.1:$REPLICA_PRIMARY_PORT (GTID)"
}

down_replica() {
  use_replica
  stop_mariadb
  use_primary
  stop_mariadb
}

status_replica() {
  local primary replica rc=0
  use_primary
  primary=$(describe_mariadb) || rc=1
  use_replica
  replica=$(describe_mariadb) || rc=1
  printf 'primary: %s\nreplica: %s\n' "$primary" "$replica"
  ((rc == 0)) && replica_errors
  return "$rc"
}
