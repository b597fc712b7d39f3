# scripts/lib/stack.sh: the pieces of the loopback stack (Redis, the backend
# simulators, a vault key, the gateway's httpd) that scripts/idgw-demo and
# scripts/idgw-bench both start, and scripts/idgw-sim and scripts/idgw-dev
# share; one copy, so the scripts cannot drift apart.  Bash, sourced:
#
#   stack_name=idgw-demo                  # prefix of die messages
#   . "$(dirname "${BASH_SOURCE[0]}")/lib/stack.sh"
#
# Sets stack_top (the source tree), stack_build ($IDGW_BUILD or
# $stack_top/build), stack_httpd and stack_sysmods (httpd and its modules
# directory; HTTPD and HTTPD_MODULES override them).  Functions are stack_*;
# they die (exit) on what the caller cannot go on without.
# shellcheck shell=bash

stack_top=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
stack_build=${IDGW_BUILD:-$stack_top/build}
stack_httpd=${HTTPD:-$(command -v apache2 || command -v httpd || echo /usr/sbin/apache2)}
stack_sysmods=${HTTPD_MODULES:-$(apxs -q LIBEXECDIR 2>/dev/null || echo /usr/lib/apache2/modules)}
# What every stack runs from the build; callers add their own.
stack_build_outputs=(modules/.libs/mod_idgw_session.so modules/.libs/mod_idgw_acl.so
                     modules/.libs/mod_idgw_convert.so t/sim/.libs/mod_idgw_sim.so
                     t/sim/idgw-terminal libfelica/felicactl)

stack_die() { echo "${stack_name:-stack}: $*" >&2; exit 1; }

# The port answers on loopback: starting there would fail half-way.
stack_port_busy() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# stack_refuse_busy PORT [HINT]: die when PORT is taken, naming the port.
stack_refuse_busy() {
    if stack_port_busy "$1"; then stack_die "port $1 is in use${2:+ ($2)}"; fi
}

# stack_pid_alive PIDFILE: the process a pidfile names is running.
stack_pid_alive() { [ -s "$1" ] && kill -0 "$(cat "$1")" 2>/dev/null; }

# stack_wait_for TRIES CMD...: retry CMD every 0.1 s; false when it never succeeded.
stack_wait_for() {
    local tries=$1 i=0; shift
    until "$@"; do
        i=$((i + 1)); [ "$i" -lt "$tries" ] || return 1; sleep 0.1
    done
}

# ---- build ---------------------------------------------------------------------

# stack_missing [FILE...]: the build outputs (stack_build_outputs and FILEs)
# absent from stack_build, space-separated, each with a leading space.
stack_missing() {
    local f out=""
    for f in "${stack_build_outputs[@]}" "$@"; do [ -e "$stack_build/$f" ] || out="$out $f"; done
    echo "$out"
}

# stack_need_build [FILE...]: make sure the outputs exist; an unconfigured
# build directory is configured and built by scripts/idgw-dev build first.
# shellcheck disable=SC2120  # the FILEs are optional
stack_need_build() {
    [ -n "$(stack_missing "$@")" ] || return 0
    if [ ! -f "$stack_build/Makefile" ]; then
        echo "$stack_name: no build in $stack_build: scripts/idgw-dev build" >&2
        IDGW_BUILD="$stack_build" "$stack_top/scripts/idgw-dev" build >&2
    fi
    echo "$stack_name: building$(stack_missing "$@")" >&2
    make -C "$stack_build" -j2 all t/sim/idgw-terminal >&2 || stack_die "build failed"
    [ -z "$(stack_missing "$@")" ] || stack_die "still missing in $stack_build:$(stack_missing "$@")"
}

# ---- Redis ---------------------------------------------------------------------

stack_redis_ping() { redis-cli -h 127.0.0.1 -p "$1" ping >/dev/null 2>&1; }

# stack_redis_start PORT DIR [HINT]: a throwaway redis-server on loopback
# (no persistence) with its pidfile, log and working files in DIR; returns
# once it answers PING.  A busy port is refused (HINT says why it may be).
stack_redis_start() {
    local port=$1 dir=$2
    stack_refuse_busy "$port" "${3:-}"
    mkdir -p "$dir"
    redis-server --bind 127.0.0.1 --port "$port" --daemonize yes \
        --pidfile "$dir/redis.pid" --dir "$dir" --logfile "$dir/redis.log" \
        --save '' --appendonly no >/dev/null
    stack_wait_for 50 stack_redis_ping "$port" \
        || stack_die "redis-server did not start (see $dir/redis.log)"
}

# stack_redis_stop PORT DIR: stop the server DIR's pidfile names; false when
# none was running.
stack_redis_stop() {
    stack_pid_alive "$2/redis.pid" || return 1
    redis-cli -h 127.0.0.1 -p "$1" shutdown nosave >/dev/null 2>&1 || kill "$(cat "$2/redis.pid")"
}

# ---- backend simulators ------------------------------------------------------------

# stack_sim RUN PORT_BASE COMMAND...: scripts/idgw-sim for the simulators of
# this stack (run directory RUN, ports PORT_BASE..PORT_BASE+5).
stack_sim() {
    IDGW_BUILD="$stack_build" IDGW_SIM_RUN="$1" IDGW_SIM_PORT_BASE="$2" \
        "$stack_top/scripts/idgw-sim" "${@:3}"
}

# stack_sim_env RUN PORT_BASE: load the simulators' URLs and certificate
# paths (IDGW_SIM_CA, IDGW_SIM_FELICA_URL, ...) into this shell.
stack_sim_env() {
    local env
    env=$(stack_sim "$1" "$2" env) || stack_die "idgw-sim env failed"
    eval "$env"
}

# ---- keys and configuration ------------------------------------------------------------

# stack_vault_key FILE COMMENT: a throwaway vault sealing key, 32 random bytes
# in hex after a comment line, readable by the starting user only.
stack_vault_key() {
    (umask 077 && { echo "# $2"; od -An -tx1 -N32 /dev/urandom | tr -d ' \n'; echo; } > "$1")
}

# stack_user_group: "USER GROUP" httpd's children run as: ourselves, or
# nobody when we are root (httpd refuses to serve as root).
stack_user_group() {
    if [ "$(id -u)" = 0 ]; then
        echo "nobody $(id -gn nobody 2>/dev/null || echo nogroup)"
    else
        echo "$(id -un) $(id -gn)"
    fi
}

# stack_httpd_common RUN PIDFILE MODULE...: the lines every gateway config
# starts with: its root and runtime files in RUN, the user its children run
# as, and LoadModule for each of httpd's own MODULEs (e.g. mpm_event).
stack_httpd_common() {
    local run=$1 pidfile=$2 user group m; shift 2
    read -r user group <<<"$(stack_user_group)"
    printf 'ServerRoot "%s"\nPidFile "%s"\nDefaultRuntimeDir "%s"\nUser %s\nGroup %s\n' \
        "$run" "$pidfile" "$run" "$user" "$group"
    for m in "$@"; do printf 'LoadModule %s_module %s/mod_%s.so\n' "$m" "$stack_sysmods" "$m"; done
}

# stack_sample_conf RUN REDIS_PORT KEY_PREFIX [SED_ARGS...]: the operator
# sample conf.d/idgw.conf, the same file an operator installs, pointed at
# this build's modules, RUN's vault key, the simulators (stack_sim_env must
# have run) and the Redis on REDIS_PORT; SED_ARGS adjust the rest.
stack_sample_conf() {
    local run=$1 redis_port=$2 prefix=$3; shift 3
    sed -e "s|/usr/lib/apache2/modules/mod_idgw_|$stack_build/modules/.libs/mod_idgw_|" \
        -e "s|/etc/apache2/idgw/idgw-map.conf|$stack_top/conf.d/idgw-map.conf|" \
        -e "s|/etc/apache2/idgw/vault.keys|$run/vault.keys|" \
        -e "s|/etc/apache2/idgw/backend-ca.crt|$IDGW_SIM_CA|g" \
        -e "s|/etc/apache2/idgw/gateway-client.crt|$IDGW_SIM_CLIENT_CERT|g" \
        -e "s|/etc/apache2/idgw/gateway-client.key|$IDGW_SIM_CLIENT_KEY|g" \
        -e "s|https://cremo.example.net/fp/cremo|$IDGW_SIM_CREMO_URL|" \
        -e "s|https://cardinfo.example.net/fp/cardinfo|$IDGW_SIM_CARDINFO_URL|" \
        -e "s|https://brand.example.net/fp/brand|$IDGW_SIM_BRAND_URL|" \
        -e "s|https://felica.example.net/fp/felica|$IDGW_SIM_FELICA_URL|" \
        -e "s|IdgwRedisServer 127.0.0.1:6379|IdgwRedisServer 127.0.0.1:$redis_port|" \
        -e "s|IdgwRedisKeyPrefix idgw:|IdgwRedisKeyPrefix $prefix|" \
        -e "s|IdgwAclCarrierNetworks 10.0.0.0/8|IdgwAclCarrierNetworks 127.0.0.0/8|" \
        "$@" "$stack_top/conf.d/idgw.conf"
}

# ---- httpd ----------------------------------------------------------------------------

# stack_httpd_start CONF WHAT URL ERRORLOG CURL_OPTS...: test CONF, start
# httpd on it and wait until URL answers; WHAT names it in messages.  On
# refusal the configtest's words, on a failed start ERRORLOG's tail.
stack_httpd_start() {
    local conf=$1 what=$2 url=$3 errlog=$4 out; shift 4
    out="$(dirname "$errlog")/configtest.log"
    "$stack_httpd" -t -f "$conf" >/dev/null 2>"$out" || {
        cat "$out" >&2; stack_die "$what configuration refused ($conf)"
    }
    "$stack_httpd" -f "$conf" -k start
    stack_wait_for 50 curl -s -o /dev/null "$@" "$url" || {
        tail -20 "$errlog" >&2 || true; stack_die "$what did not start"
    }
}

# stack_httpd_stop CONF PIDFILE: stop the httpd PIDFILE names and wait (10 s
# at most) until it is gone, so its ports and logs are free; false when it
# outlived the wait.
stack_httpd_stop() {
    local pid
    pid=$(cat "$2" 2>/dev/null) || return 0
    [ -n "$pid" ] || return 0
    "$stack_httpd" -f "$1" -k stop 2>/dev/null || kill "$pid" 2>/dev/null
    stack_wait_for 100 stack_pid_gone "$pid"
}

stack_pid_gone() { ! kill -0 "$1" 2>/dev/null; }

# stack_pin CERT: the certificate's public key pin as curl and the terminal
# simulator take it ("sha256//BASE64").
stack_pin() {
    printf 'sha256//%s\n' "$(openssl x509 -in "$1" -pubkey -noout | openssl pkey -pubin -outform der \
        | openssl dgst -sha256 -binary | base64)"
}

# stack_terminal URL PIN [ARGS...]: the terminal simulator against the gateway
# at URL, its certificate pinned, with the test system keys and chip emulator.
stack_terminal() {
    "$stack_build/t/sim/idgw-terminal" --url "$1" --pin "$2" \
        --system-master-keys "$stack_top/t/sim/data/felica/system-master.keys" \
        --felicactl "$stack_build/libfelica/felicactl" "${@:3}"
}
