# libfelica/frame: public FeliCa frames (encode, decode, names, describe) and
# the gateway's relay checks.  Headers are listed so that `make dist` ships them.
libfelica_libfelica_la_SOURCES += \
	libfelica/frame/felica_error.h \
	libfelica/frame/felica_frame.h \
	libfelica/frame/felica_relay.h \
	libfelica/frame/felica_frame_layout.h \
	libfelica/frame/felica_error.c \
	libfelica/frame/felica_frame.c \
	libfelica/frame/felica_frame_decode.c \
	libfelica/frame/felica_frame_encode.c \
	libfelica/frame/felica_frame_names.c \
	libfelica/frame/felica_describe.c \
	libfelica/frame/felica_relay.c
