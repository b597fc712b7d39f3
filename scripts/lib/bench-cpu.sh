# scripts/lib/bench-cpu.sh: where the CPU of a bench phase went, for
# scripts/idgw-bench.  Redis's own accounting (INFO cpu: getrusage of the
# whole process; INFO commandstats: calls and usec per command, the commands
# a script runs included) and the kernel's (/proc/PID/stat utime + stime), taken
# before and after a phase; the differences divided by the requests or
# stories of the phase are the figures that do not depend on how many cores
# the machine has (docs/performance.md).  Bash, sourced; no state of its own.
# shellcheck shell=bash

bench_clk_tck=$(getconf CLK_TCK 2>/dev/null || echo 100)

# bench_proc_us PID...: CPU time (user + system, µs) the processes used so
# far, summed; a process gone meanwhile counts 0.  The command name in
# field 2 may hold spaces: the fields are counted after its ")".
bench_proc_us() {
    local p total=0 t
    for p in "$@"; do
        t=$(sed 's/^.*) //' "/proc/$p/stat" 2>/dev/null | awk -v hz="$bench_clk_tck" \
            '{ printf "%d", ($12 + $13) * 1000000 / hz }') || t=0
        total=$((total + ${t:-0}))
    done
    echo "$total"
}

# bench_tree_us PIDFILE: bench_proc_us of an httpd (the pidfile's process)
# and its children.
bench_tree_us() {
    local parent
    parent=$(cat "$1" 2>/dev/null) || { echo 0; return; }
    # shellcheck disable=SC2046  # one PID a word
    bench_proc_us "$parent" $(ps -o pid= --ppid "$parent")
}

# bench_redis_snapshot PORT...: one line per Redis on 127.0.0.1:PORT,
#   PORT PID CPU_US CALLS USEC SCRIPT_CALLS SCRIPT_USEC PROC_US
# CPU_US from INFO cpu (used_cpu_sys + used_cpu_user), CALLS and USEC the
# sums over INFO commandstats without the INFO calls themselves (the
# bench's, not the gateway's), SCRIPT_* those of EVALSHA, EVAL and FCALL,
# PROC_US the kernel's figure for the same process.
bench_redis_snapshot() {
    local port line pid
    for port in "$@"; do
        line=$(redis-cli -h 127.0.0.1 -p "$port" info all | tr -d '\r' | awk -F'[:=,]' -v port="$port" '
            $1 == "process_id" { pid = $2 }
            $1 == "used_cpu_sys" || $1 == "used_cpu_user" { cpu += $2 }
            /^cmdstat_/ && $1 != "cmdstat_info" {
                calls += $3; usec += $5
                if ($1 ~ /^cmdstat_(evalsha|eval|fcall)$/) { scalls += $3; susec += $5 }
            }
            END { printf "%s %d %.0f %.0f %.0f %.0f %.0f", port, pid, cpu * 1000000, calls, usec, scalls, susec }')
        pid=$(echo "$line" | awk '{ print $2 }')
        [ "${pid:-0}" != 0 ] || { echo "bench_redis_snapshot: no answer from Redis :$port" >&2; return 1; }
        echo "$line $(bench_proc_us "$pid")"
    done
}

# bench_redis_delta BEFORE AFTER: the differences of two snapshot files, one
# line per port (PORT CPU_US CALLS USEC SCRIPT_CALLS SCRIPT_USEC PROC_US).
# A Redis restarted in between (another PID) would give nonsense: refused.
bench_redis_delta() {
    awk 'NR == FNR { for (i = 2; i <= 8; i++) b[$1, i] = $i; next }
         b[$1, 2] != $2 { print "bench_redis_delta: Redis :" $1 " restarted during the phase" > "/dev/stderr"; bad = 1; next }
         { printf "%s", $1; for (i = 3; i <= 8; i++) printf " %.0f", $i - b[$1, i]; printf "\n" }
         END { exit bad }' "$1" "$2"
}

# bench_redis_sum FILE: per-port sums of delta lines (several phases appended
# to one file), and a last line "all ..." with the sums over every port.
bench_redis_sum() {
    awk '{ if (!($1 in seen)) { seen[$1] = 1; order[++n] = $1 }
           for (i = 2; i <= 7; i++) { s[$1, i] += $i; t[i] += $i } }
         END { for (k = 1; k <= n; k++) { printf "%s", order[k]; for (i = 2; i <= 7; i++) printf " %.0f", s[order[k], i]; printf "\n" }
               printf "all"; for (i = 2; i <= 7; i++) printf " %.0f", t[i]; printf "\n" }' "$1"
}

# bench_per UNITS LINE: a sum line divided by UNITS (requests or stories):
# "CPU_US CALLS SCRIPT_US PROC_US" per unit (null when UNITS is 0).
bench_per() {
    echo "$2" | awk -v n="$1" '{ if (n > 0) printf "%.1f %.2f %.1f %.1f\n", $2 / n, $3 / n, $6 / n, $7 / n
                                 else print "null null null null" }'
}

# bench_target VALUE LIMIT: PASS when VALUE <= LIMIT, FAIL otherwise (also
# when nothing was measured).
bench_target() {
    awk -v v="$1" -v l="$2" 'BEGIN { print (v != "null" && v != "" && v + 0 <= l + 0) ? "PASS" : "FAIL" }'
}
