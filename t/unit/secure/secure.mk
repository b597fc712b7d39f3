# libfelica/secure: AES primitives, KDF, the secure channel (host against
# chip), the secure-command payloads, and the hex examples of
# docs/libfelica-secure-channel.md (test_secure_doc).
check_PROGRAMS += t/unit/secure/test_crypto t/unit/secure/test_sc t/unit/secure/test_secure_cmd \
	t/unit/secure/test_secure_doc
TESTS += t/unit/secure/test_crypto t/unit/secure/test_sc t/unit/secure/test_secure_cmd \
	t/unit/secure/test_secure_doc
t_unit_secure_test_crypto_SOURCES = t/unit/secure/test_crypto.c
t_unit_secure_test_crypto_CFLAGS = $(UNIT_CFLAGS)
t_unit_secure_test_crypto_LDADD = $(UNIT_LIBS)
t_unit_secure_test_sc_SOURCES = t/unit/secure/test_sc.c
t_unit_secure_test_sc_CFLAGS = $(UNIT_CFLAGS)
t_unit_secure_test_sc_LDADD = $(UNIT_LIBS)
t_unit_secure_test_secure_cmd_SOURCES = t/unit/secure/test_secure_cmd.c
t_unit_secure_test_secure_cmd_CFLAGS = $(UNIT_CFLAGS)
t_unit_secure_test_secure_cmd_LDADD = $(UNIT_LIBS)
t_unit_secure_test_secure_doc_SOURCES = t/unit/secure/test_secure_doc.c
t_unit_secure_test_secure_doc_CFLAGS = $(UNIT_CFLAGS) -DIDGW_SRCDIR='"$(abs_top_srcdir)"'
t_unit_secure_test_secure_doc_LDADD = $(UNIT_LIBS)
