# Check tests: AES primitives, KDF and the secure channel (host against chip).
check_PROGRAMS += t/unit/test_crypto
TESTS += t/unit/test_crypto
t_unit_test_crypto_SOURCES = t/unit/test_crypto.c
t_unit_test_crypto_CFLAGS = $(UNIT_CFLAGS)
t_unit_test_crypto_LDADD = $(UNIT_LIBS)

check_PROGRAMS += t/unit/test_sc
TESTS += t/unit/test_sc
t_unit_test_sc_SOURCES = t/unit/test_sc.c
t_unit_test_sc_CFLAGS = $(UNIT_CFLAGS)
t_unit_test_sc_LDADD = $(UNIT_LIBS)
