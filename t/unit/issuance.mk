# Check tests: issuance part (owned by H3b): the iD card layout, the issuance
# session's save/load, and the host session against the chip emulator.
check_PROGRAMS += t/unit/test_card
TESTS += t/unit/test_card
t_unit_test_card_SOURCES = t/unit/test_card.c
t_unit_test_card_CFLAGS = $(UNIT_CFLAGS)
t_unit_test_card_LDADD = $(UNIT_LIBS)

check_PROGRAMS += t/unit/test_issuance
TESTS += t/unit/test_issuance
t_unit_test_issuance_SOURCES = t/unit/test_issuance.c t/unit/iss_fixture.c t/unit/iss_fixture.h
t_unit_test_issuance_CFLAGS = $(UNIT_CFLAGS)
t_unit_test_issuance_LDADD = $(UNIT_LIBS)

check_PROGRAMS += t/unit/test_e2e
TESTS += t/unit/test_e2e
t_unit_test_e2e_SOURCES = t/unit/test_e2e.c t/unit/iss_fixture.c t/unit/iss_fixture.h
t_unit_test_e2e_CFLAGS = $(UNIT_CFLAGS)
t_unit_test_e2e_LDADD = $(UNIT_LIBS)
