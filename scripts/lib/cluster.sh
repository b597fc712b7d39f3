#!/bin/bash
# scripts/lib/cluster.sh: a throwaway Redis Cluster on loopback for the tests
# and the bench (idgw-bench --fleet N --shards M): M masters with R replicas
# each on ports BASE..BASE+M*(R+1)-1 (and their cluster bus ports +10000),
# no persistence, a short node timeout so that a replica takes over a failed
# master within about two seconds.  Sourced (bash) or run as a command:
#
#   . scripts/lib/cluster.sh
#   cluster_start DIR BASE [MASTERS [REPLICAS [PASSWORD]]]  # default 3 masters, 1 replica each
#   cluster_stop DIR                               # stops what cluster_start started
#
#   scripts/lib/cluster.sh start DIR 17100 3 1 [PASSWORD]
#   scripts/lib/cluster.sh stop DIR
#
# With PASSWORD every node requires it (requirepass, and masterauth for its
# replicas); redis-cli then reads it from REDISCLI_AUTH, never from argv.
# Each node keeps its pidfile, log and nodes.conf in DIR/<port>/.  A busy
# port is refused before anything starts.  Run it under the shared test lock
# (flock -o /tmp/idgw-test.lock) like every test that opens ports.
# shellcheck shell=bash

stack_name=${stack_name:-cluster}
# shellcheck source=scripts/lib/stack.sh
. "$(dirname "${BASH_SOURCE[0]}")/stack.sh"

# cluster_node_start PORT DIR [PASSWORD]: one cluster-enabled redis-server.
cluster_node_start() {
    local port=$1 dir=$2/$1 auth=()
    mkdir -p "$dir"
    rm -f "$dir/nodes.conf"
    # the password through a config file on stdin, so that ps does not show it
    [ -z "${3:-}" ] || auth=(-)
    { [ -z "${3:-}" ] || printf 'requirepass "%s"\nmasterauth "%s"\n' "$3" "$3"; } |
    redis-server --bind 127.0.0.1 --port "$port" --daemonize yes \
        --cluster-enabled yes --cluster-config-file "$dir/nodes.conf" \
        --cluster-node-timeout 1000 \
        --pidfile "$dir/redis.pid" --dir "$dir" --logfile "$dir/redis.log" \
        --save '' --appendonly no "${auth[@]}" >/dev/null
}

# cluster_ok PORT: the node says cluster_state:ok.
cluster_ok() { redis-cli -h 127.0.0.1 -p "$1" cluster info 2>/dev/null | grep -q '^cluster_state:ok'; }

cluster_start() {
    local dir=$1 base=$2 masters=${3:-3} replicas=${4:-1} password=${5:-} n i port
    local addrs=()
    [ -z "$password" ] || export REDISCLI_AUTH=$password
    n=$((masters * (replicas + 1)))
    for ((i = 0; i < n; i++)); do
        stack_refuse_busy $((base + i)) "a cluster left running? $0 stop $dir"
        stack_refuse_busy $((base + i + 10000)) "cluster bus port"
    done
    mkdir -p "$dir"
    for ((i = 0; i < n; i++)); do
        port=$((base + i))
        cluster_node_start "$port" "$dir" "$password"
        echo "$port" >>"$dir/ports"
        addrs+=("127.0.0.1:$port")
    done
    for ((i = 0; i < n; i++)); do
        stack_wait_for 50 stack_redis_ping $((base + i)) \
            || stack_die "redis-server $((base + i)) did not start (see $dir/$((base + i))/redis.log)"
    done
    redis-cli --cluster create "${addrs[@]}" --cluster-replicas "$replicas" --cluster-yes \
        >"$dir/create.log" 2>&1 || stack_die "cluster create failed (see $dir/create.log)"
    for ((i = 0; i < n; i++)); do
        stack_wait_for 100 cluster_ok $((base + i)) \
            || stack_die "node $((base + i)) never saw cluster_state:ok"
    done
    # every replica attached (a failover test needs one behind each master)
    stack_wait_for 100 cluster_replicas_synced "$base" "$replicas" "$masters" \
        || stack_die "replicas did not sync"
}

# cluster_replicas_synced BASE REPLICAS MASTERS: each master reports its replicas online.
cluster_replicas_synced() {
    local online i
    online=$(redis-cli -h 127.0.0.1 -p "$1" cluster nodes 2>/dev/null | grep -c ' slave ')
    [ "$online" -ge $(($2 * $3)) ] || return 1
    for ((i = 0; i < $2 * $3 + $3; i++)); do
        if redis-cli -h 127.0.0.1 -p $(($1 + i)) role 2>/dev/null | head -1 | grep -q slave; then
            redis-cli -h 127.0.0.1 -p $(($1 + i)) info replication \
                | grep -q 'master_link_status:up' || return 1
        fi
    done
}

# cluster_stop DIR: stop every node cluster_start started in DIR; false when none ran.
cluster_stop() {
    local dir=$1 port any=1 pid
    [ -f "$dir/ports" ] || return 1
    while read -r port; do
        stack_pid_alive "$dir/$port/redis.pid" || continue
        pid=$(cat "$dir/$port/redis.pid")
        kill "$pid" 2>/dev/null && any=0
        stack_wait_for 50 stack_pid_gone "$pid" || kill -9 "$pid" 2>/dev/null
    done <"$dir/ports"
    rm -f "$dir/ports"
    return $any
}

if [ "${BASH_SOURCE[0]}" = "$0" ]; then
    case ${1:-} in
    start) shift; cluster_start "$@" ;;
    stop) shift; cluster_stop "$@" ;;
    *) echo "usage: $0 start DIR BASE [MASTERS [REPLICAS [PASSWORD]]] | stop DIR" >&2; exit 2 ;;
    esac
fi
