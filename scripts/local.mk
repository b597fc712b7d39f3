# Developer and operator scripts.
dist_noinst_SCRIPTS += scripts/idgw-dev scripts/idgw-fuzz scripts/idgw-slowtest
# The stack pieces idgw-dev, idgw-demo and idgw-bench source (not run alone).
EXTRA_DIST += scripts/lib/stack.sh
# The first-run keys (vault key file, the backends' client certificate);
# idgw-tools installs it as /usr/bin/idgw-keys.
dist_noinst_SCRIPTS += scripts/idgw-keys
