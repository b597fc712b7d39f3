# libfelica: secure-command payloads, the chip emulator and its image file (owned by H3a)
libfelica_libfelica_la_SOURCES += libfelica/felica_secure_cmd.h libfelica/felica_secure_cmd.c
libfelica_libfelica_la_SOURCES += \
	libfelica/felica_image.h \
	libfelica/felica_image_fault.h \
	libfelica/felica_image.c \
	libfelica/felica_image_file.c \
	libfelica/felica_chip.h \
	libfelica/felica_chip_internal.h \
	libfelica/felica_chip.c \
	libfelica/felica_chip_public.c \
	libfelica/felica_chip_secure.c

bin_PROGRAMS += libfelica/felicactl
libfelica_felicactl_SOURCES = libfelica/felicactl.c
libfelica_felicactl_LDADD = libfelica/libfelica.la $(OPENSSL_LIBS)
