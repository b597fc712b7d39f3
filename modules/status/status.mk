# modules/status: mod_idgw_status, the page and the Prometheus text on top of
# the counters registry (modules/common/idgw_metrics.c).
modules_LTLIBRARIES += modules/mod_idgw_status.la
modules_mod_idgw_status_la_SOURCES = modules/status/mod_idgw_status.c \
	modules/status/idgw_status_page.c modules/status/idgw_status_page.h
modules_mod_idgw_status_la_CPPFLAGS = $(IDGW_MODULE_CPPFLAGS)
modules_mod_idgw_status_la_LDFLAGS = $(IDGW_MODULE_LDFLAGS)
modules_mod_idgw_status_la_LIBADD = modules/redis/libidgw_redis.la \
	modules/common/libidgw_common.la $(IDGW_MODULE_LIBS)

# the benchmark (docs/performance.md)
dist_noinst_SCRIPTS += scripts/idgw-bench
