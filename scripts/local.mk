# Developer and operator scripts.
dist_noinst_SCRIPTS += scripts/idgw-dev scripts/idgw-fuzz scripts/idgw-slowtest scripts/idgw-tlscheck \
	scripts/idgw-reconcile
# What the operator tools share (idgw-tools installs it in /usr/share/idgw/perl5).
EXTRA_DIST += scripts/lib/IdgwRedisCli.pm
# The stack pieces idgw-dev, idgw-demo and idgw-bench source (not run alone).
EXTRA_DIST += scripts/lib/stack.sh scripts/lib/bench-cpu.sh
# What idgw-bench runs to replay a captured story (t/unit/scripts checks it).
EXTRA_DIST += scripts/lib/idgw-replay
# A loopback Redis Cluster (test_cluster_live, idgw-bench --fleet --shards).
EXTRA_DIST += scripts/lib/cluster.sh
