# libfelica/tools: felicactl as a user runs it (the binary built in this
# tree; bin_PROGRAMS are built before check).
check_PROGRAMS += t/unit/tools/test_felicactl
TESTS += t/unit/tools/test_felicactl
t_unit_tools_test_felicactl_SOURCES = t/unit/tools/test_felicactl.c
t_unit_tools_test_felicactl_CPPFLAGS = $(AM_CPPFLAGS) \
	-DFELICACTL_PATH=\"$(abs_top_builddir)/libfelica/felicactl\"
t_unit_tools_test_felicactl_CFLAGS = $(UNIT_CFLAGS)
t_unit_tools_test_felicactl_LDADD = $(UNIT_LIBS)
