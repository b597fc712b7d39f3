# Check tests: chip part (owned by H3a): secure-command payloads, chip emulator, image file
check_PROGRAMS += t/unit/test_secure_cmd
TESTS += t/unit/test_secure_cmd
t_unit_test_secure_cmd_SOURCES = t/unit/test_secure_cmd.c
t_unit_test_secure_cmd_CFLAGS = $(UNIT_CFLAGS)
t_unit_test_secure_cmd_LDADD = $(UNIT_LIBS)

check_PROGRAMS += t/unit/test_image
TESTS += t/unit/test_image
t_unit_test_image_SOURCES = t/unit/test_image.c
t_unit_test_image_CFLAGS = $(UNIT_CFLAGS)
t_unit_test_image_LDADD = $(UNIT_LIBS)

check_PROGRAMS += t/unit/test_chip
TESTS += t/unit/test_chip
t_unit_test_chip_SOURCES = t/unit/test_chip.c
t_unit_test_chip_CFLAGS = $(UNIT_CFLAGS)
t_unit_test_chip_LDADD = $(UNIT_LIBS)

# runs the felicactl built in this tree (bin_PROGRAMS are built before check)
check_PROGRAMS += t/unit/test_felicactl
TESTS += t/unit/test_felicactl
t_unit_test_felicactl_SOURCES = t/unit/test_felicactl.c
t_unit_test_felicactl_CPPFLAGS = $(AM_CPPFLAGS) -DFELICACTL_PATH=\"$(abs_top_builddir)/libfelica/felicactl\"
t_unit_test_felicactl_CFLAGS = $(UNIT_CFLAGS)
t_unit_test_felicactl_LDADD = $(UNIT_LIBS)

include $(srcdir)/t/unit/issuance.mk
