# Developer and operator scripts.
dist_noinst_SCRIPTS += scripts/idgw-dev scripts/idgw-fuzz scripts/idgw-slowtest scripts/idgw-tlscheck
# The stack pieces idgw-dev, idgw-demo and idgw-bench source (not run alone).
EXTRA_DIST += scripts/lib/stack.sh
