# libfelica/chip: the chip emulator and its image file.
check_PROGRAMS += t/unit/chip/test_image t/unit/chip/test_chip
TESTS += t/unit/chip/test_image t/unit/chip/test_chip
t_unit_chip_test_image_SOURCES = t/unit/chip/test_image.c
t_unit_chip_test_image_CFLAGS = $(UNIT_CFLAGS)
t_unit_chip_test_image_LDADD = $(UNIT_LIBS)
t_unit_chip_test_chip_SOURCES = t/unit/chip/test_chip.c
t_unit_chip_test_chip_CFLAGS = $(UNIT_CFLAGS)
t_unit_chip_test_chip_LDADD = $(UNIT_LIBS)
