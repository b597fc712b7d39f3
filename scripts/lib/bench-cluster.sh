# scripts/lib/bench-cluster.sh: a throwaway Redis Cluster of M masters (no
# replicas) on loopback for scripts/idgw-bench --shards M: M redis-server
# --cluster-enabled on ports BASE..BASE+M-1 (cluster bus: port + 10000),
# slots spread by redis-cli --cluster create.  Needs stack.sh (sourced
# first).  Bash, sourced.
# shellcheck shell=bash

# bench_cluster_ports BASE M: the masters' ports, space-separated.
bench_cluster_ports() { seq -s ' ' "$1" $(($1 + $2 - 1)); }

# bench_cluster_ok PORT: the node on PORT sees every slot served.
bench_cluster_ok() {
    redis-cli -h 127.0.0.1 -p "$1" cluster info 2>/dev/null | tr -d '\r' | grep -qx 'cluster_state:ok'
}

# bench_cluster_start BASE M DIR: start the M nodes (each in DIR/PORT: its
# pidfile, log and nodes file) and join them; returns once every node says
# cluster_state:ok.  redis-cli --cluster create wants 3 masters at least:
# with 1 or 2 the slots are assigned by hand (CLUSTER ADDSLOTSRANGE, MEET).
bench_cluster_start() {
    local base=$1 m=$2 dir=$3 port ports=() i lo hi
    for port in $(bench_cluster_ports "$base" "$m"); do
        stack_refuse_busy "$port" "another bench running?"
        stack_refuse_busy $((port + 10000)) "cluster bus of :$port"
        mkdir -p "$dir/$port"
        redis-server --bind 127.0.0.1 --port "$port" --daemonize yes \
            --cluster-enabled yes --cluster-config-file "$dir/$port/nodes.conf" \
            --cluster-node-timeout 5000 \
            --pidfile "$dir/$port/redis.pid" --dir "$dir/$port" --logfile "$dir/$port/redis.log" \
            --save '' --appendonly no >/dev/null
        stack_wait_for 50 stack_redis_ping "$port" \
            || stack_die "cluster node :$port did not start (see $dir/$port/redis.log)"
        ports+=("127.0.0.1:$port")
    done
    if [ "$m" -ge 3 ]; then
        redis-cli --cluster create "${ports[@]}" --cluster-replicas 0 --cluster-yes \
            > "$dir/create.log" 2>&1 || stack_die "redis-cli --cluster create failed (see $dir/create.log)"
    else
        for ((i = 0; i < m; i++)); do
            lo=$((16384 * i / m)); hi=$((16384 * (i + 1) / m - 1))
            redis-cli -p $((base + i)) cluster addslotsrange "$lo" "$hi" >/dev/null
            [ "$i" = 0 ] || redis-cli -p $((base + i)) cluster meet 127.0.0.1 "$base" >/dev/null
        done
    fi
    for port in $(bench_cluster_ports "$base" "$m"); do
        stack_wait_for 100 bench_cluster_ok "$port" \
            || stack_die "cluster node :$port never reached cluster_state:ok (see $dir/$port/redis.log)"
    done
}

# bench_cluster_stop BASE M DIR: stop the nodes DIR's pidfiles name.
bench_cluster_stop() {
    local port
    for port in $(bench_cluster_ports "$1" "$2"); do
        stack_redis_stop "$port" "$3/$port" || true
    done
}
