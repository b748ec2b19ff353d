# Sourced by dev/stack.sh: a pair of servers that require TLS and passwords.
# A Kafka broker whose client listener is SASL_SSL (SCRAM-SHA-512 and -256), and
# a MariaDB with require_secure_transport=ON; certificates from a CA of our own,
# passwords generated once. Everything lives in $RUN_DIR/secure/ (keys and
# passwords readable by this user only); re-running reuses it.
#
# The broker also has an SSL listener that requires a client certificate (mutual
# TLS, no SASL). Each server also has a twin port presenting a certificate for another host name
# (wrong.example), signed by the same CA, for tests of host name verification:
# the broker as a second listener, MariaDB as a small server of its own.

SECURE_DIR=$RUN_DIR/secure
SECURE_TLS=$SECURE_DIR/tls
SECURE_SECRETS=$SECURE_DIR/secrets
SECURE_DB_PORT=${STACK_SECURE_DB_PORT:-3316}
SECURE_DB_WRONG_PORT=${STACK_SECURE_DB_WRONG_PORT:-3317}
SECURE_KAFKA_PORT=${STACK_SECURE_KAFKA_PORT:-9192}
SECURE_KAFKA_WRONG_PORT=${STACK_SECURE_KAFKA_WRONG_PORT:-9194}
SECURE_KAFKA_MTLS_PORT=${STACK_SECURE_KAFKA_MTLS_PORT:-9195}
SECURE_CONTROLLER_PORT=${STACK_SECURE_CONTROLLER_PORT:-9193}
SECURE_KAFKA_USERS=(admin ums) # SCRAM users; admin is the super user and the inter-broker one
SECURE_DB_ADMIN=ums_admin      # all privileges, for migrate and the tests
SECURE_DB_X509=ums_x509        # needs a client certificate besides its password

# ---- keys, certificates, passwords -------------------------------------------

secret() { secret_in "$SECURE_SECRETS/$1.password"; } # name: secrets/<name>.password

tls_ca() { # name subject: a self-signed CA
  [[ -s $SECURE_TLS/$1.pem ]] && return
  openssl req -x509 -newkey rsa:2048 -nodes -days 3650 -subj "$2" \
    -keyout "$SECURE_TLS/$1.key" -out "$SECURE_TLS/$1.pem.tmp" \
    -addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign,cRLSign \
    >>"$SECURE_TLS/openssl.log" 2>&1 || die_with_log "$SECURE_TLS/openssl.log" "tls: making CA $1 failed"
  mv "$SECURE_TLS/$1.pem.tmp" "$SECURE_TLS/$1.pem"
}

tls_cert() { # name common-name subjectAltName extendedKeyUsage: a certificate signed by ca
  local dir=$SECURE_TLS
  [[ -s $dir/$1.pem ]] && return
  openssl req -newkey rsa:2048 -nodes -subj "/CN=$2" -keyout "$dir/$1.key" -out "$dir/$1.csr" \
    >>"$dir/openssl.log" 2>&1 || die_with_log "$dir/openssl.log" "tls: key for $1 failed"
  printf 'basicConstraints=CA:FALSE\nsubjectAltName=%s\nextendedKeyUsage=%s\n' "$3" "$4" >"$dir/$1.ext"
  openssl x509 -req -days 825 -in "$dir/$1.csr" -CA "$dir/ca.pem" -CAkey "$dir/ca.key" \
    -set_serial "0x$(openssl rand -hex 12)" -extfile "$dir/$1.ext" -out "$dir/$1.pem.tmp" \
    >>"$dir/openssl.log" 2>&1 || die_with_log "$dir/openssl.log" "tls: signing $1 failed"
  mv "$dir/$1.pem.tmp" "$dir/$1.pem"
  rm -f "$dir/$1.csr" "$dir/$1.ext"
}

tls_keystore() { # name: <name>.p12 holding the key, the certificate and the CA, for Java
  [[ -s $SECURE_TLS/$1.p12 ]] && return
  openssl pkcs12 -export -name "$1" -in "$SECURE_TLS/$1.pem" -inkey "$SECURE_TLS/$1.key" \
    -certfile "$SECURE_TLS/ca.pem" -passout "file:$SECURE_SECRETS/keystore.password" \
    -out "$SECURE_TLS/$1.p12.tmp" >>"$SECURE_TLS/openssl.log" 2>&1 ||
    die_with_log "$SECURE_TLS/openssl.log" "tls: keystore $1 failed"
  mv "$SECURE_TLS/$1.p12.tmp" "$SECURE_TLS/$1.p12"
}

secure_material() { # every key, certificate and password the pair needs
  (umask 077 && mkdir -p "$SECURE_TLS")
  local name
  for name in "${SECURE_KAFKA_USERS[@]}"; do secret "kafka-$name" >/dev/null; done
  secret mysql-admin >/dev/null
  secret mysql-x509 >/dev/null
  secret keystore >/dev/null
  tls_ca ca "/CN=ums-find local CA"
  tls_ca other-ca "/CN=ums-find untrusted CA" # signs nothing: a CA file the servers do not match
  tls_cert kafka localhost DNS:localhost,IP:127.0.0.1 serverAuth,clientAuth
  tls_cert mariadb localhost DNS:localhost,IP:127.0.0.1 serverAuth
  tls_cert wrong-host wrong.example DNS:wrong.example serverAuth
  tls_cert client ums-find-client DNS:ums-find-client clientAuth
  tls_keystore kafka
  tls_keystore wrong-host
}

# ---- Kafka over SASL_SSL -----------------------------------------------------

scram_jaas() { # the broker's own SCRAM login (inter-broker traffic), as admin
  printf 'org.apache.kafka.common.security.scram.ScramLoginModule required username="admin" password="%s";' \
    "$(secret kafka-admin)"
}

secure_kafka_config() { # the plain broker's settings with SASL_SSL listeners instead
  local keystore_pw listener mech
  keystore_pw=$(secret keystore)
  mkdir -p "$KAFKA_DIR/data"
  (umask 077 && : >"$KAFKA_PROPS")
  {
    grep -vE '^(listeners|advertised\.listeners|listener\.security\.protocol\.map|inter\.broker\.listener\.name|controller\.quorum\.bootstrap\.servers)=' \
      "$KAFKA_SRC/server.properties"
    cat <<EOF
log.dirs=$KAFKA_DIR/data
controller.quorum.bootstrap.servers=127.0.0.1:$CONTROLLER_PORT
# Clients and the broker itself speak SASL_SSL; the controller listener stays
# plaintext on loopback (a single KRaft node only talks to itself there).
listeners=SASL_SSL://127.0.0.1:$KAFKA_PORT,WRONGHOST://127.0.0.1:$SECURE_KAFKA_WRONG_PORT,MTLS://127.0.0.1:$SECURE_KAFKA_MTLS_PORT,CONTROLLER://127.0.0.1:$CONTROLLER_PORT
advertised.listeners=SASL_SSL://127.0.0.1:$KAFKA_PORT,WRONGHOST://127.0.0.1:$SECURE_KAFKA_WRONG_PORT,MTLS://127.0.0.1:$SECURE_KAFKA_MTLS_PORT
listener.security.protocol.map=SASL_SSL:SASL_SSL,WRONGHOST:SASL_SSL,MTLS:SSL,CONTROLLER:PLAINTEXT
inter.broker.listener.name=SASL_SSL
sasl.enabled.mechanisms=SCRAM-SHA-512,SCRAM-SHA-256
sasl.mechanism.inter.broker.protocol=SCRAM-SHA-512
ssl.keystore.type=PKCS12
ssl.keystore.location=$SECURE_TLS/kafka.p12
ssl.keystore.password=$keystore_pw
ssl.key.password=$keystore_pw
ssl.truststore.type=PEM
ssl.truststore.location=$SECURE_TLS/ca.pem
ssl.endpoint.identification.algorithm=https
listener.name.wronghost.ssl.keystore.location=$SECURE_TLS/wrong-host.p12
listener.name.wronghost.ssl.keystore.password=$keystore_pw
listener.name.wronghost.ssl.key.password=$keystore_pw
listener.name.mtls.ssl.client.auth=required
authorizer.class.name=org.apache.kafka.metadata.authorizer.StandardAuthorizer
super.users=User:admin
# No ACLs are defined: any authenticated user may do anything (the tests' app user).
allow.everyone.if.no.acl.found=true
EOF
    for listener in sasl_ssl wronghost; do
      for mech in scram-sha-512 scram-sha-256; do
        say "listener.name.$listener.$mech.sasl.jaas.config=$(scram_jaas)"
      done
    done
  } >>"$KAFKA_PROPS"
}

secure_client_config() { # the admin's client properties, for the Kafka tools
  (umask 077 && cat >"$SECURE_DIR/kafka-admin.properties" <<EOF
security.protocol=SASL_SSL
sasl.mechanism=SCRAM-SHA-512
sasl.jaas.config=$(scram_jaas)
ssl.truststore.type=PEM
ssl.truststore.location=$SECURE_TLS/ca.pem
EOF
  )
}

use_secure_kafka() {
  use_kafka "$SECURE_DIR/kafka" "$SECURE_KAFKA_PORT" "$SECURE_CONTROLLER_PORT"
  KAFKA_LIBS=${STACK_KAFKA_LIBS:-$RUN_DIR/kafka/libs} # the plain broker's jars
  STACK_KAFKA_HEAP=${STACK_KAFKA_HEAP:-512m}
  # A test broker: starting fast on a busy machine beats peak throughput.
  KAFKA_JVM_ARGS=(-XX:TieredStopAtLevel=1 -XX:+UseSerialGC)
  TOPIC_CMD_ARGS=(--command-config "$SECURE_DIR/kafka-admin.properties")
  local name mech
  KAFKA_FORMAT_ARGS=()
  for name in "${SECURE_KAFKA_USERS[@]}"; do
    for mech in SCRAM-SHA-512 SCRAM-SHA-256; do
      KAFKA_FORMAT_ARGS+=(--add-scram "$mech=[name=$name,password=$(secret "kafka-$name")]")
    done
  done
  kafka_config() { secure_kafka_config; }
}

start_secure_kafka() {
  use_secure_kafka
  if port_open "$KAFKA_PORT"; then
    say "secure kafka: reused, $(describe_kafka)"
    return
  fi
  # The voter set written at format time names the controller port: a new port
  # needs a fresh log (the users come back from the format options).
  if [[ $(cat "$KAFKA_DIR/controller.port" 2>/dev/null) != "$CONTROLLER_PORT" ]]; then
    rm -rf "$KAFKA_DIR/data"
    mkdir -p "$KAFKA_DIR"
    say "$CONTROLLER_PORT" >"$KAFKA_DIR/controller.port"
  fi
  kafka_libs
  secure_client_config
  launch_kafka
  say "secure kafka: started (pid $LAUNCHED) on $BOOTSTRAP (SASL_SSL)," \
    "mutual TLS on :$SECURE_KAFKA_MTLS_PORT, wrong host name on :$SECURE_KAFKA_WRONG_PORT"
}

# ---- MariaDB requiring TLS ---------------------------------------------------

use_secure_mariadb() {
  use_mariadb "$SECURE_DIR/mariadb" "$SECURE_DB_PORT"
  DB_INSTALL_ARGS=() # root only through the unix socket
  DB_PING_ARGS=(--protocol=socket --socket="$DB_DIR/mariadb.sock")
  DB_EXTRA=(--require-secure-transport=ON --ssl-ca="$SECURE_TLS/ca.pem"
    --ssl-cert="$SECURE_TLS/mariadb.pem" --ssl-key="$SECURE_TLS/mariadb.key"
    --innodb-buffer-pool-size=64M --max-connections=100)
}

secure_sql() { mariadb --no-defaults --socket="$DB_DIR/mariadb.sock" -uroot -e "$1"; }

secure_users() { # the accounts, with the current passwords (idempotent)
  secure_sql "
    CREATE USER IF NOT EXISTS '$SECURE_DB_ADMIN'@'%' IDENTIFIED BY '$(secret mysql-admin)';
    ALTER USER '$SECURE_DB_ADMIN'@'%' IDENTIFIED BY '$(secret mysql-admin)';
    GRANT ALL PRIVILEGES ON *.* TO '$SECURE_DB_ADMIN'@'%' WITH GRANT OPTION;
    CREATE USER IF NOT EXISTS '$SECURE_DB_X509'@'%' IDENTIFIED BY '$(secret mysql-x509)' REQUIRE X509;
    GRANT ALL PRIVILEGES ON *.* TO '$SECURE_DB_X509'@'%';" ||
    die "secure mariadb: creating the users failed"
}

start_secure_mariadb() {
  use_secure_mariadb
  start_mariadb
  secure_users
  # The twin: an empty server (no grant tables) that only has to present its certificate.
  use_mariadb "$SECURE_DIR/mariadb-wrong-host" "$SECURE_DB_WRONG_PORT"
  mkdir -p "$DB_DIR"
  DB_PING_ARGS=(--protocol=tcp -h127.0.0.1)
  DB_EXTRA=(--skip-grant-tables --ssl-ca="$SECURE_TLS/ca.pem"
    --ssl-cert="$SECURE_TLS/wrong-host.pem" --ssl-key="$SECURE_TLS/wrong-host.key"
    --innodb-buffer-pool-size=16M --innodb-log-file-size=8M --max-connections=20)
  [[ -d $DB_DIR/mysql ]] || mkdir -p "$DB_DIR/mysql" # no mariadb-install-db: nothing to grant
  start_mariadb
}

# ---- commands ----------------------------------------------------------------

up_secure() {
  secure_material
  start_secure_mariadb
  start_secure_kafka
  ensure_topics
  say "secure: CA $SECURE_TLS/ca.pem, passwords in $SECURE_SECRETS/"
}

down_secure() {
  use_secure_kafka
  stop_kafka
  use_mariadb "$SECURE_DIR/mariadb-wrong-host" "$SECURE_DB_WRONG_PORT"
  stop_mariadb
  use_mariadb "$SECURE_DIR/mariadb" "$SECURE_DB_PORT"
  stop_mariadb
}

status_secure() {
  local db wrong kafka rc=0
  use_secure_mariadb
  db=$(describe_mariadb) || rc=1
  use_mariadb "$SECURE_DIR/mariadb-wrong-host" "$SECURE_DB_WRONG_PORT"
  wrong=$(describe_mariadb) || rc=1
  use_secure_kafka
  kafka=$(describe_kafka) || rc=1
  printf 'secure mariadb: %s\nwrong-host mariadb: %s\nsecure kafka: %s\n' "$db" "$wrong" "$kafka"
  return "$rc"
}
