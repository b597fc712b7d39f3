# libfelica: frame codec, names, describe and relay validation (developer H1).
# Public headers are listed here so that `make dist` ships them.
libfelica_libfelica_la_SOURCES += \
	libfelica/felica_error.h \
	libfelica/felica_frame.h \
	libfelica/felica_relay.h \
	libfelica/felica_frame_layout.h \
	libfelica/felica_error.c \
	libfelica/felica_frame.c \
	libfelica/felica_frame_decode.c \
	libfelica/felica_frame_encode.c \
	libfelica/felica_frame_names.c \
	libfelica/felica_describe.c \
	libfelica/felica_relay.c
