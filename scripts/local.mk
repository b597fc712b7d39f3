# Developer and operator scripts.
dist_noinst_SCRIPTS += scripts/idgw-dev scripts/idgw-fuzz
