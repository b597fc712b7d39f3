# The shell library of scripts/ (scripts/lib/): the bench's CPU arithmetic,
# checked on fixed snapshots, and what the bench's replay takes from a
# MONITOR capture (no Redis, no ports).
dist_check_SCRIPTS += t/unit/scripts/check-bench-cpu t/unit/scripts/check-idgw-replay
TESTS += t/unit/scripts/check-bench-cpu t/unit/scripts/check-idgw-replay
