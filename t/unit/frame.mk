# Check tests: frame codec and relay validation (developer H1).
check_PROGRAMS += t/unit/test_frame t/unit/test_relay
TESTS += t/unit/test_frame t/unit/test_relay
t_unit_test_frame_SOURCES = t/unit/test_frame.c
t_unit_test_frame_CFLAGS = $(UNIT_CFLAGS)
t_unit_test_frame_LDADD = $(UNIT_LIBS)
t_unit_test_relay_SOURCES = t/unit/test_relay.c
t_unit_test_relay_CFLAGS = $(UNIT_CFLAGS)
t_unit_test_relay_LDADD = $(UNIT_LIBS)
