# Backend simulators (t/sim): mod_idgw_sim, an httpd module serving CREMO, the
# card information download center, the brand download center and the FeliCa
# server over TLS on loopback; started with scripts/idgw-sim.  A test double:
# built for the tests and the dev stack, never installed.
noinst_LTLIBRARIES += t/sim/mod_idgw_sim.la
t_sim_mod_idgw_sim_la_SOURCES = t/sim/sim.h t/sim/mod_idgw_sim.c t/sim/sim_data.c \
	t/sim/sim_cards.c t/sim/sim_brand.c t/sim/sim_felica.c t/sim/sim_fault.c \
	t/sim/sim_service.c t/sim/sim_ledger.c
t_sim_mod_idgw_sim_la_CPPFLAGS = $(AM_CPPFLAGS) $(IDGW_BACKEND_CPPFLAGS)
t_sim_mod_idgw_sim_la_LDFLAGS = -module -avoid-version -shared -rpath /nowhere
t_sim_mod_idgw_sim_la_LIBADD = modules/backend/libidgw_backend.la \
	modules/common/libidgw_common.la libfelica/libfelica.la \
	$(OPENSSL_LIBS) $(XML2_LIBS)

# The backend client on the command line: the simulators' tests use it to
# exercise the client against httpd + mod_ssl.
check_PROGRAMS += t/sim/idgw-fpcall
t_sim_idgw_fpcall_SOURCES = t/sim/idgw-fpcall.c
t_sim_idgw_fpcall_CPPFLAGS = $(AM_CPPFLAGS) $(IDGW_BACKEND_CPPFLAGS)
t_sim_idgw_fpcall_LDADD = modules/backend/libidgw_backend.la \
	modules/common/libidgw_common.la $(APU_LIBS) $(APR_LIBS) $(OPENSSL_LIBS) \
	$(XML2_LIBS)

EXTRA_DIST += t/sim/run-tests t/sim/idgw-fpdirect t/sim/conf/sim.conf.in t/sim/data t/sim/tests scripts/idgw-pki scripts/idgw-sim \
	docs/feature-phone-interface.md

# HTTP-level tests of the simulators: start them, prove, stop them.  Not in a
# sanitizer build: an ASan-built module cannot be loaded into the system httpd.
if SANITIZERS
check-sim:
	@echo "check-sim: skipped in a sanitizer build (run it in the plain build)"
else
check-sim: t/sim/mod_idgw_sim.la libfelica/felicactl t/sim/idgw-fpcall
	IDGW_BUILD="$(abs_top_builddir)" IDGW_SRC="$(abs_top_srcdir)" \
	IDGW_SIM_RUN="$(abs_top_builddir)/run-sim-check" \
	$(SHELL) $(top_srcdir)/t/sim/run-tests
endif
.PHONY: check-sim
