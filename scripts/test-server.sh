#!/usr/bin/env bash
# Starts (or reuses) the throwaway Dovecot IMAP server that the tests, the demo and the benchmarks
# use. Everything lives in one state folder of its own; nothing under /etc is touched, and the
# server listens on loopback only.
#
#   scripts/test-server.sh start     install Dovecot if needed, configure, start; idempotent
#   scripts/test-server.sh stop      stop both instances
#   scripts/test-server.sh env       print the environment variables the tests read
#   scripts/test-server.sh invoke-env  print settings for `npm run invoke` as user demo, ready to eval
#   scripts/test-server.sh reset     empty the mail of the test users test01..test40
#   scripts/test-server.sh reset-bench  remove the benchmarks' mail (user bench)
#
# Two instances share one mail store:
#   main    127.0.0.1:10993 implicit TLS, 127.0.0.1:10143 cleartext + STARTTLS,
#           127.0.0.2:10143 where login requires STARTTLS (Dovecot treats a client whose address
#           equals the server's as secure, so only the second address really demands TLS);
#           MOVE, UIDPLUS, CONDSTORE, SPECIAL-USE, COMPRESS=DEFLATE.
#   legacy  127.0.0.1:11143 cleartext only (no STARTTLS offered), plain IMAP4rev1 without MOVE,
#           UIDPLUS, CONDSTORE, SPECIAL-USE or IDLE: the paths taken on servers lacking them.
#
# The main instance also takes OAuth 2.0 bearer tokens (AUTHENTICATE OAUTHBEARER and XOAUTH2):
# Dovecot's oauth2 passdb asks a token-introspection endpoint at
# http://127.0.0.1:10980/introspect whether a token is active and whose it is. Nothing listens
# there unless a test starts it (test/introspection.ts), so tokens fail with "[UNAVAILABLE]
# Temporary authentication failure" outside the OAuth tests. Passwords and tokens are kept
# apart by mechanism: a password is never checked as a token, nor a token as a password.
#
# On a machine that is not Debian, or to use another server, skip this script and point the tests
# at your server with the variables listed by `scripts/test-server.sh env` (see README).
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# Outside the checkout on purpose: Dovecot's mail processes run as an unprivileged user, who must be
# able to reach the mail store, and a checkout may sit below a folder only root can enter.
STATE=${IMAP_TEST_STATE_DIR:-/tmp/imap-component-dovecot}
MAIL_USER=imaptest
PASSWORD=${IMAP_TEST_PASSWORD:-imap-test-password}
USERS="alice bob carol demo bench quota $(seq -f 'test%02g' 1 40 | tr '\n' ' ')"
QUOTA_USER=quota
MAIN_CONF=$STATE/main.conf
LEGACY_CONF=$STATE/legacy.conf
OAUTH2_ARGS=$STATE/oauth2.conf.ext
INTROSPECTION_PORT=${IMAP_TEST_INTROSPECTION_PORT:-10980}
# Other ports let a second copy of the server run beside this one (e.g. for a second checkout).
TLS_PORT=${IMAP_TEST_TLS_PORT:-10993}
PLAIN_PORT=${IMAP_TEST_PLAIN_PORT:-10143}
LEGACY_PORT=${IMAP_TEST_LEGACY_PORT:-11143}

log() { echo "[test-server] $*" >&2; }

install_dovecot() {
  local missing=()
  command -v dovecot >/dev/null 2>&1 && command -v doveadm >/dev/null 2>&1 || missing+=(dovecot-imapd)
  command -v openssl >/dev/null 2>&1 || missing+=(openssl)
  [ ${#missing[@]} -eq 0 ] && return
  if ! command -v apt-get >/dev/null 2>&1 || [ "$(id -u)" != 0 ]; then
    log "missing: ${missing[*]}, and this is not a Debian machine where I am root."
    log "Install them yourself, or run the tests against another server (see README)."
    exit 1
  fi
  log "installing ${missing[*]} from Debian's packages"
  # Where the package's own service starts, it listens on the standard ports; ours uses others.
  DEBIAN_FRONTEND=noninteractive apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

ensure_user() {
  # Dovecot refuses to run mail processes as root: mail belongs to a user of its own.
  id "$MAIL_USER" >/dev/null 2>&1 || useradd --system --no-create-home --shell /usr/sbin/nologin "$MAIL_USER"
}

make_certificates() {
  local tls=$STATE/tls
  [ -f "$tls/server.crt" ] && [ -f "$tls/ca.crt" ] && return
  mkdir -p "$tls"
  log "creating a test CA and a certificate for localhost / 127.0.0.1 / 127.0.0.2"
  openssl req -x509 -newkey rsa:2048 -nodes -days 3650 -subj "/CN=IMAP component test CA" \
    -keyout "$tls/ca.key" -out "$tls/ca.crt" 2>/dev/null
  openssl req -newkey rsa:2048 -nodes -subj "/CN=localhost" \
    -keyout "$tls/server.key" -out "$tls/server.csr" 2>/dev/null
  printf 'subjectAltName=DNS:localhost,IP:127.0.0.1,IP:127.0.0.2\nbasicConstraints=CA:FALSE\n' > "$tls/ext.cnf"
  openssl x509 -req -in "$tls/server.csr" -CA "$tls/ca.crt" -CAkey "$tls/ca.key" -CAcreateserial \
    -days 3650 -extfile "$tls/ext.cnf" -out "$tls/server.crt" 2>/dev/null
  chmod 644 "$tls/ca.crt" "$tls/server.crt"
}

write_users() {
  local file=$STATE/users
  : > "$file.tmp"
  for u in $USERS; do
    # One user has a quota (on the main instance, which runs the quota plugin): 1 MiB or 50 messages.
    if [ "$u" = "$QUOTA_USER" ]; then
      echo "$u:{PLAIN}$PASSWORD::::::userdb_quota_rule=*:storage=1M userdb_quota_rule2=*:messages=50" >> "$file.tmp"
    else
      echo "$u:{PLAIN}$PASSWORD" >> "$file.tmp"
    fi
  done
  mv "$file.tmp" "$file"
  chmod 644 "$file"
}

write_oauth2_args() {
  # Read by the main instance's oauth2 passdb. Posts token=<token> and expects RFC 7662 JSON:
  # {"active": true, "username": "test25"}; any other answer, or none, fails the login.
  cat > "$OAUTH2_ARGS.tmp" <<CONF
introspection_url = http://127.0.0.1:$INTROSPECTION_PORT/introspect
introspection_mode = post
username_attribute = username
active_attribute = active
active_value = true
# a stalled endpoint fails the login after 5 s instead of hanging it
timeout_msecs = 5000
CONF
  if cmp -s "$OAUTH2_ARGS.tmp" "$OAUTH2_ARGS"; then rm -f "$OAUTH2_ARGS.tmp"; else mv "$OAUTH2_ARGS.tmp" "$OAUTH2_ARGS"; fi
  chmod 644 "$OAUTH2_ARGS"
}

auth_config() {
  # $1: instance name; only the main instance takes OAuth tokens
  if [ "$1" = main ]; then echo "auth_mechanisms = plain login oauthbearer xoauth2"; else echo "auth_mechanisms = plain login"; fi
}

passdb_config() {
  # $1: instance name
  if [ "$1" != main ]; then
    cat <<CONF
passdb {
  driver = passwd-file
  args = scheme=PLAIN username_format=%u $STATE/users
}
userdb {
  driver = static
  args = uid=$MAIL_USER gid=$MAIL_USER home=$STATE/home/%u
}
CONF
    return
  fi
  # Without the mechanisms lines Dovecot would try every passdb for every mechanism: a password
  # would be accepted as a token, and a token as a password.
  cat <<CONF
passdb {
  driver = passwd-file
  mechanisms = plain login
  args = scheme=PLAIN username_format=%u $STATE/users
}
passdb {
  driver = oauth2
  mechanisms = xoauth2 oauthbearer
  args = $OAUTH2_ARGS
}
userdb {
  # allow_all_users: a token-only user (not in the users file) gets a home too, and user lookups
  # (doveadm) need no passdb lookup, which the mechanisms filters above would refuse
  driver = static
  args = uid=$MAIL_USER gid=$MAIL_USER home=$STATE/home/%u allow_all_users=yes
}
# the oauth2 args file, so that changing it reloads the instance: $(sha256sum "$OAUTH2_ARGS" | cut -c1-16)
CONF
}

common_config() {
  # $1: instance name
  cat <<CONF
base_dir = $STATE/$1/run
state_dir = $STATE/$1/lib
log_path = $STATE/$1/dovecot.log
protocols = imap
default_internal_user = dovecot
default_login_user = dovenull
first_valid_uid = 100
$(auth_config "$1")
auth_failure_delay = 0
mail_location = maildir:$STATE/mail/%u
mail_plugins = listescape
plugin {
  listescape_char = "\\\\"
}
service anvil {
  # no brute-force penalty: failing logins on purpose is what the tests do
  unix_listener anvil-auth-penalty {
    mode = 0
  }
}
$(passdb_config "$1")
CONF
}

mailboxes() {
  # $1: "special" to mark the special-use mailboxes
  local name use
  for pair in 'Drafts \Drafts' 'Sent \Sent' 'Trash \Trash' 'Junk \Junk' 'Archive \Archive'; do
    name=${pair%% *}; use=${pair#* }
    echo "  mailbox $name {"
    echo "    auto = subscribe"
    [ "$1" = special ] && echo "    special_use = $use"
    echo "  }"
  done
}

write_config() {
  mkdir -p "$STATE/main" "$STATE/legacy" "$STATE/mail" "$STATE/home"
  chown "$MAIL_USER:$MAIL_USER" "$STATE/mail" "$STATE/home"
  chmod 755 "$STATE" "$STATE/mail" "$STATE/home"
  {
    common_config main
    cat <<CONF
listen = 127.0.0.1, 127.0.0.2
ssl = yes
ssl_cert = <$STATE/tls/server.crt
ssl_key = <$STATE/tls/server.key
disable_plaintext_auth = yes
service imap-login {
  inet_listener imap {
    port = $PLAIN_PORT
  }
  inet_listener imaps {
    port = $TLS_PORT
    ssl = yes
  }
}
mail_plugins = \$mail_plugins quota
plugin {
  quota = count:User quota
  quota_vsizes = yes
}
protocol imap {
  mail_plugins = \$mail_plugins imap_zlib imap_quota
}
namespace inbox {
  inbox = yes
  separator = /
$(mailboxes special)
}
CONF
  } > "$MAIN_CONF.tmp"
  {
    common_config legacy
    cat <<CONF
listen = 127.0.0.1
ssl = no
disable_plaintext_auth = no
service imap-login {
  inet_listener imap {
    port = $LEGACY_PORT
  }
  inet_listener imaps {
    port = 0
  }
}
protocol imap {
  imap_capability = IMAP4rev1 LITERAL+ SASL-IR LOGIN-REFERRALS ID ENABLE NAMESPACE
}
namespace inbox {
  inbox = yes
  separator = /
$(mailboxes plain)
}
CONF
  } > "$LEGACY_CONF.tmp"
}

running() {
  # $1: pid file. A pid left from an earlier boot may now belong to another process: check its name.
  local pid
  [ -f "$1" ] || return 1
  pid=$(cat "$1")
  [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null && [ "$(cat "/proc/$pid/comm" 2>/dev/null)" = dovecot ]
}

start_instance() {
  # $1: name, $2: config file, $3: a port to wait for
  local name=$1 conf=$2 port=$3 pidfile=$STATE/$1/run/master.pid
  if running "$pidfile"; then
    if cmp -s "$conf.tmp" "$conf"; then rm -f "$conf.tmp"; return; fi
    mv "$conf.tmp" "$conf"
    log "reloading $name with its new configuration"
    dovecot -c "$conf" reload
  else
    mv "$conf.tmp" "$conf"
    rm -f "$pidfile"
    log "starting $name on port $port"
    dovecot -c "$conf"
  fi
  for _ in $(seq 1 100); do
    if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then return; fi
    sleep 0.1
  done
  log "$name did not start listening on $port; its log says:"
  tail -n 20 "$STATE/$name/dovecot.log" >&2 || true
  exit 1
}

stop_instance() {
  local pidfile=$STATE/$1/run/master.pid
  if running "$pidfile"; then
    dovecot -c "$STATE/$1.conf" stop || kill "$(cat "$pidfile")"
    log "stopped $1"
  fi
}

print_env() {
  cat <<ENV
IMAP_TEST_HOST=127.0.0.1
IMAP_TEST_TLS_PORT=$TLS_PORT
IMAP_TEST_PLAIN_PORT=$PLAIN_PORT
IMAP_TEST_STARTTLS_HOST=127.0.0.2
IMAP_TEST_LEGACY_PORT=$LEGACY_PORT
IMAP_TEST_CA_FILE=$STATE/tls/ca.crt
IMAP_TEST_PASSWORD=$PASSWORD
IMAP_TEST_MAIN_CONF=$MAIN_CONF
IMAP_TEST_INTROSPECTION_PORT=$INTROSPECTION_PORT
ENV
}

print_invoke_env() {
  # Quoted for eval: eval "$(bash scripts/test-server.sh invoke-env)"
  cat <<ENV
export IMAP_HOST=127.0.0.1
export IMAP_PORT=$TLS_PORT
export IMAP_ENCRYPTION=tls
export IMAP_USER=demo
export IMAP_PASSWORD='$PASSWORD'
export IMAP_CA_FILE='$STATE/tls/ca.crt'
ENV
}

case "${1:-start}" in
  start)
    install_dovecot
    ensure_user
    mkdir -p "$STATE"
    make_certificates
    write_users
    write_oauth2_args
    write_config
    start_instance main "$MAIN_CONF" "$TLS_PORT"
    start_instance legacy "$LEGACY_CONF" "$LEGACY_PORT"
    ;;
  stop)
    stop_instance main
    stop_instance legacy
    ;;
  env)
    print_env
    ;;
  invoke-env)
    print_invoke_env
    ;;
  reset)
    # Empty the test users' mail (test01..test40) so every test run starts from the same state.
    for u in $USERS; do
      case "$u" in test*) rm -rf "${STATE:?}/mail/$u" ;; esac
    done
    ;;
  reset-bench)
    # The benchmarks seed large mailboxes (about 500 MB) for the user bench; the next run reseeds.
    if [ -d "$STATE/mail/bench" ]; then
      log "removing $(du -sh "$STATE/mail/bench" | cut -f1) of benchmark mail"
      rm -rf "${STATE:?}/mail/bench"
    fi
    ;;
  *)
    echo "usage: $0 start|stop|env|invoke-env|reset|reset-bench" >&2
    exit 2
    ;;
esac
