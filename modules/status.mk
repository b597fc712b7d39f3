# mod_idgw_status and the shared counters (metrics)
#
# libidgw_metrics.la: the shared counter table and its renderers (no httpd
# dependency), linked into mod_idgw_status.so and into the Check tests alike.
# httpd's ap_config_auto.h defines PACKAGE_* itself: drop configure's.
STATUS_HTTPD_CPPFLAGS = -UPACKAGE_NAME -UPACKAGE_STRING -UPACKAGE_TARNAME \
	-UPACKAGE_VERSION -UPACKAGE_BUGREPORT -UPACKAGE_URL \
	-I$(top_srcdir)/modules $(APXS_CPPFLAGS) $(APR_CFLAGS) $(APU_CFLAGS) $(HIREDIS_CFLAGS)

noinst_LTLIBRARIES += modules/libidgw_metrics.la
modules_libidgw_metrics_la_SOURCES = modules/idgw_metrics.c modules/idgw_metrics.h
modules_libidgw_metrics_la_CPPFLAGS = $(AM_CPPFLAGS) $(STATUS_HTTPD_CPPFLAGS)
modules_libidgw_metrics_la_LIBADD = $(APR_LIBS)

modules_LTLIBRARIES += modules/mod_idgw_status.la
modules_mod_idgw_status_la_SOURCES = modules/mod_idgw_status.c
modules_mod_idgw_status_la_CPPFLAGS = $(AM_CPPFLAGS) $(STATUS_HTTPD_CPPFLAGS) $(IDGW_MODULE_CPPFLAGS)
modules_mod_idgw_status_la_LDFLAGS = -module -avoid-version -shared
# libidgw.la: the operation and step names of the session contract (mod_idgw.h)
modules_mod_idgw_status_la_LIBADD = modules/libidgw_metrics.la modules/libidgw.la \
	$(IDGW_MODULE_LIBS) $(HIREDIS_LIBS) $(APR_LIBS)


# the benchmark (docs/performance.md)
dist_noinst_SCRIPTS += scripts/idgw-bench

# Apache::Test coverage of the status handler: the suite runs from the build
# directory (t/integration.mk copies its files there); copy ours too.
# Apache::Test includes every t/conf/*.in it finds.
IDGW_STATUS_ITEST_FILES = t/conf/status.conf.in t/status_handler.t \
	t/status_counting.t t/status_fleet.t t/status_gateway.t t/status_restart.t \
	t/status_config.t
EXTRA_DIST += $(IDGW_STATUS_ITEST_FILES)

check-integration: status-itest-files
status-itest-files:
	@if test "$(abs_srcdir)" != "$(abs_builddir)"; then \
	  for f in $(IDGW_STATUS_ITEST_FILES); do \
	    $(MKDIR_P) `dirname $$f` && cp -p $(srcdir)/$$f $$f || exit 1; \
	  done; \
	fi
.PHONY: status-itest-files
