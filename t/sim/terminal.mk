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
