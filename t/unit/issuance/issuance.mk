# libfelica/issuance: the iD card layout, the issuance session's save/load,
# and the host session against the chip emulator (iss_fixture, also used by
# the convert engine's tests).
ISS_FIXTURE = t/unit/issuance/iss_fixture.c t/unit/issuance/iss_fixture.h
check_PROGRAMS += t/unit/issuance/test_card t/unit/issuance/test_issuance \
	t/unit/issuance/test_e2e
TESTS += t/unit/issuance/test_card t/unit/issuance/test_issuance t/unit/issuance/test_e2e
t_unit_issuance_test_card_SOURCES = t/unit/issuance/test_card.c
t_unit_issuance_test_card_CFLAGS = $(UNIT_CFLAGS)
t_unit_issuance_test_card_LDADD = $(UNIT_LIBS)
t_unit_issuance_test_issuance_SOURCES = t/unit/issuance/test_issuance.c $(ISS_FIXTURE)
t_unit_issuance_test_issuance_CFLAGS = $(UNIT_CFLAGS)
t_unit_issuance_test_issuance_LDADD = $(UNIT_LIBS)
t_unit_issuance_test_e2e_SOURCES = t/unit/issuance/test_e2e.c $(ISS_FIXTURE)
t_unit_issuance_test_e2e_CFLAGS = $(UNIT_CFLAGS)
t_unit_issuance_test_e2e_LDADD = $(UNIT_LIBS)
