# libfelica/chip: the chip emulator and its sealed image file
# (docs/libfelica-chip.md).
libfelica_libfelica_la_SOURCES += \
	libfelica/chip/felica_image.h \
	libfelica/chip/felica_image_fault.h \
	libfelica/chip/felica_image.c \
	libfelica/chip/felica_image_file.c \
	libfelica/chip/felica_chip.h \
	libfelica/chip/felica_chip_internal.h \
	libfelica/chip/felica_chip.c \
	libfelica/chip/felica_chip_public.c \
	libfelica/chip/felica_chip_secure.c \
	libfelica/chip/felica_chip_change.c \
	libfelica/chip/felica_chip_resp.c
