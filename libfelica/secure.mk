# libfelica: the AES primitives, per-chip key diversification and the
# SCP03-style secure channel (host and chip sides); see
# docs/libfelica-secure-channel.md.
libfelica_libfelica_la_SOURCES += \
	libfelica/felica_crypto.h \
	libfelica/felica_crypto.c \
	libfelica/felica_keys.c \
	libfelica/felica_sc.h \
	libfelica/felica_sc_internal.h \
	libfelica/felica_sc_common.c \
	libfelica/felica_sc_host.c \
	libfelica/felica_sc_chip.c

dist_noinst_DATA += docs/libfelica-secure-channel.md
