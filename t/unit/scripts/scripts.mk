# The shell library of scripts/ (scripts/lib/): the bench's CPU arithmetic,
# checked on fixed snapshots (no Redis, no ports).
dist_check_SCRIPTS += t/unit/scripts/check-bench-cpu
TESTS += t/unit/scripts/check-bench-cpu
