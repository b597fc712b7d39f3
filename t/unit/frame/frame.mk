# libfelica/frame: frame codec and relay validation.
check_PROGRAMS += t/unit/frame/test_frame t/unit/frame/test_relay
TESTS += t/unit/frame/test_frame t/unit/frame/test_relay
t_unit_frame_test_frame_SOURCES = t/unit/frame/test_frame.c
t_unit_frame_test_frame_CFLAGS = $(UNIT_CFLAGS)
t_unit_frame_test_frame_LDADD = $(UNIT_LIBS)
t_unit_frame_test_relay_SOURCES = t/unit/frame/test_relay.c
t_unit_frame_test_relay_CFLAGS = $(UNIT_CFLAGS)
t_unit_frame_test_relay_LDADD = $(UNIT_LIBS)
