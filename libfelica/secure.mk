# libfelica: the AES primitives, per-chip key diversification and the
# SCP03-style secure channel (host and chip sides); see
# docs/libfelica-secure-channel.md.
libfelica_libfelica_la_SOURCES += \
	libfelica/felica_crypto.h \
	libfelica/felica_crypto.c \
	libfelica/felica_keys.c \
	libfelica/felica_sc.h

