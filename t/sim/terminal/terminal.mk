# terminal simulator (the app's role on libfelica's chip emulator): HTTPS to the
# gateway with its certificate pinned, every operation as a subcommand, a
# transcript, a concurrent mode for the benchmark.  A test double, built with
# the tests (make check) and by scripts/idgw-demo; never installed.
check_PROGRAMS += t/sim/idgw-terminal
t_sim_idgw_terminal_SOURCES = t/sim/terminal/idgw_terminal.c \
	t/sim/terminal/term_http.c t/sim/terminal/term_http.h \
	t/sim/terminal/term_ops.c t/sim/terminal/term_ops.h
t_sim_idgw_terminal_CPPFLAGS = $(AM_CPPFLAGS) -D_GNU_SOURCE $(OPENSSL_CFLAGS) $(XML2_CFLAGS)
t_sim_idgw_terminal_LDADD = libfelica/libfelica.la $(OPENSSL_LIBS) $(XML2_LIBS) -lpthread

# The convert integration suite: the whole stack (scripts/idgw-demo on the
# test ports 8600-8629) driven by the terminal simulator; prove's
# "Result: PASS" line is what CI reads.  Runs from the source tree's t/ with
# the modules of this build.
IDGW_CONVERT_TESTS = t/convert_story.t t/convert_refusals.t t/convert_relay.t \
	t/convert_faults.t t/convert_xml.t t/convert_config.t t/convert_concurrent.t \
	t/convert_identity.t t/convert_display_data.t t/convert_slow_clients.t \
	t/convert_configtest.t t/convert_lease.t t/convert_correlation.t t/convert_seq_conflict.t \
	t/convert_proven.t t/convert_vault_lost.t t/convert_reconcile.t t/convert_autosettle.t \
	t/convert_reaper_failover.t t/convert_watch_once.t t/convert_cluster.t \
	t/convert_shadow_user.t \
	t/convert_acl_required.t t/convert_tls.t \
	t/convert_chaos_quick.t t/convert_chaos_proxy.t \
	t/convert_zz_secrets.t
EXTRA_DIST += $(IDGW_CONVERT_TESTS) t/lib/IdgwTest/Stack.pm t/lib/IdgwTest/Terminal.pm \
	scripts/idgw-demo scripts/idgw-chaos scripts/lib/idgw-faultproxy scripts/lib/chaos-truth.pl

check-convert: $(modules_LTLIBRARIES) t/sim/mod_idgw_sim.la t/sim/idgw-terminal libfelica/felicactl
	cd $(abs_top_srcdir) && IDGW_BUILD="$(abs_top_builddir)" prove --timer $(IDGW_CONVERT_TESTS)

.PHONY: check-convert
