# libfelica/secure: the AES primitives, per-chip key diversification, the
# SCP03-style secure channel (host and chip sides) and the payloads of the
# secure commands; see docs/libfelica-secure-channel.md.
libfelica_libfelica_la_SOURCES += \
	libfelica/secure/felica_crypto.h \
	libfelica/secure/felica_crypto.c \
	libfelica/secure/felica_keys.c \
	libfelica/secure/felica_sc.h \
	libfelica/secure/felica_sc_internal.h \
	libfelica/secure/felica_sc_common.c \
	libfelica/secure/felica_sc_host.c \
	libfelica/secure/felica_sc_chip.c \
	libfelica/secure/felica_secure_cmd.h \
	libfelica/secure/felica_secure_cmd.c
