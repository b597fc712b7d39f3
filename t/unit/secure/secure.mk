# libfelica/secure: AES primitives, KDF, the secure channel (host against
# chip) and the secure-command payloads.
check_PROGRAMS += t/unit/secure/test_crypto t/unit/secure/test_sc t/unit/secure/test_secure_cmd
TESTS += t/unit/secure/test_crypto t/unit/secure/test_sc t/unit/secure/test_secure_cmd
t_unit_secure_test_crypto_SOURCES = t/unit/secure/test_crypto.c
t_unit_secure_test_crypto_CFLAGS = $(UNIT_CFLAGS)
t_unit_secure_test_crypto_LDADD = $(UNIT_LIBS)
t_unit_secure_test_sc_SOURCES = t/unit/secure/test_sc.c
t_unit_secure_test_sc_CFLAGS = $(UNIT_CFLAGS)
t_unit_secure_test_sc_LDADD = $(UNIT_LIBS)
t_unit_secure_test_secure_cmd_SOURCES = t/unit/secure/test_secure_cmd.c
t_unit_secure_test_secure_cmd_CFLAGS = $(UNIT_CFLAGS)
t_unit_secure_test_secure_cmd_LDADD = $(UNIT_LIBS)
