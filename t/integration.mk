# Apache::Test integration suite (t/TEST.PL, t/conf, t/lib, t/*.t)
#
# `make check-integration` runs the suite from the build directory: the
# harness files are copied there (the source tree stays untouched, as
# distcheck needs), httpd loads the modules from this build tree
# (@top_dir@ in t/conf/*.in is the build directory), and the harness starts
# its own redis-server on 127.0.0.1:6390.  Ports: httpd 8529.., more httpd
# instances 8560-8569, Redis 6390 (Sentinel test: 6391-6393).

# the test-only handler standing in for mod_idgw_convert (never installed)
check_LTLIBRARIES = t/mod_idgw_testop.la
t_mod_idgw_testop_la_SOURCES = t/mod_idgw_testop.c
t_mod_idgw_testop_la_CPPFLAGS = $(IDGW_MODULE_CPPFLAGS)
t_mod_idgw_testop_la_LDFLAGS = -module -avoid-version -shared -rpath $(abs_builddir)/t
t_mod_idgw_testop_la_LIBADD = modules/common/libidgw_common.la $(IDGW_MODULE_LIBS)

IDGW_ITEST_FILES = t/TEST.PL t/conf/extra.conf.in t/conf/httpd-base.conf \
	t/lib/IdgwTest/Redis.pm t/lib/IdgwTest/Client.pm t/lib/IdgwTest/Httpd.pm t/lib/IdgwTest/RedisNodes.pm \
	t/session_basic.t t/session_illegal.t t/session_retransmit.t \
	t/session_rollback.t t/session_wait.t conf.d/redis/idgw-replicated.conf t/session_failover_lost.t \
	t/session_roundtrip.t t/session_function.t t/session_redis_outage.t t/session_redis_stale_pool.t t/session_restart.t \
	t/session_two_instances.t t/session_config.t t/session_sentinel.t t/session_cluster.t t/session_cluster_wait.t \
	t/session_load.t t/session_body.t t/session_methods.t \
	t/session_lifetime.t t/session_status_read.t t/session_commit_confirm.t t/session_tls.t \
	t/conf/shed.conf.in t/session_shed.t \
	t/conf/acl.conf.in t/lib/IdgwTest/Acl.pm \
	t/acl_network.t t/acl_whitelist.t t/acl_blacklist.t t/acl_fleet.t \
	t/acl_rate.t t/acl_steady_cost.t t/acl_lease.t t/acl_lists_push.t t/acl_cluster.t t/acl_autoban.t t/acl_proven.t t/acl_natpool.t t/acl_redis_down.t t/acl_config.t t/acl_admin_cli.t \
	t/acl_shadow.t \
	t/conf/status.conf.in t/status_handler.t \
	t/status_counting.t t/status_fleet.t t/status_gateway.t t/status_restart.t \
	t/status_config.t t/status_page.t t/status_rules.t
EXTRA_DIST += $(IDGW_ITEST_FILES)
# the refusals the README names, at LogLevel warn (mod_idgw_acl)
IDGW_ITEST_FILES += t/acl_loglevel.t

IDGW_ITEST_ARGS = -httpd $(HTTPD) -httpd_conf $(abs_builddir)/t/conf/httpd-base.conf \
	-apxs $(APXS)

check-integration: $(modules_LTLIBRARIES) $(check_LTLIBRARIES)
	@if test "$(abs_srcdir)" != "$(abs_builddir)"; then \
	  for f in $(IDGW_ITEST_FILES) $(IDGW_MONITORING_FILES); do \
	    $(MKDIR_P) `dirname $$f` && cp -p $(srcdir)/$$f $$f || exit 1; \
	  done; \
	fi
	@chmod -R u+w t
	cd $(abs_builddir) && IDGW_BUILDDIR=$(abs_builddir) perl t/TEST.PL -clean >/dev/null
	cd $(abs_builddir) && HARNESS_TIMER=1 IDGW_BUILDDIR=$(abs_builddir) perl t/TEST.PL $(IDGW_ITEST_ARGS) $(TEST_FILES)

clean-local: clean-integration
clean-integration:
	-cd $(abs_builddir) && test -f t/TEST.PL && perl t/TEST.PL -clean >/dev/null 2>&1
	-rm -rf t/redis-data t/logs t/conf/vault.keys t/second-httpd t/config-httpd \
	  t/sentinel-httpd t/redis-sentinel t/cluster-httpd t/redis-cluster \
	  t/htdocs/acl t/conf/acl-second.conf t/conf/acl-check.conf \
	  t/logs/acl-second t/logs/acl-check
	-if test "$(abs_srcdir)" != "$(abs_builddir)"; then \
	  rm -f $(IDGW_ITEST_FILES) $(IDGW_MONITORING_FILES); fi

.PHONY: check-integration clean-integration
