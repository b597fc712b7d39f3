# Check tests of the modules' internals (modules/libidgw.la).
# test_session_script runs the real Lua scripts against a redis-server it
# starts itself on 127.0.0.1:6398; test_redis_pool does the same on 6397.
MODULES_UNIT_CFLAGS = $(UNIT_CFLAGS) -I$(top_srcdir)/modules $(APR_CFLAGS) $(APU_CFLAGS) \
	$(HIREDIS_CFLAGS)
MODULES_UNIT_LIBS = modules/libidgw.la $(UNIT_LIBS) $(HIREDIS_LIBS) $(APU_LIBS) $(APR_LIBS)

check_PROGRAMS += t/unit/test_transitions t/unit/test_vault t/unit/test_session_keys \
	t/unit/test_session_script t/unit/test_redis_pool
TESTS += t/unit/test_transitions t/unit/test_vault t/unit/test_session_keys \
	t/unit/test_session_script t/unit/test_redis_pool

t_unit_test_transitions_SOURCES = t/unit/test_transitions.c
t_unit_test_transitions_CFLAGS = $(MODULES_UNIT_CFLAGS)
t_unit_test_transitions_LDADD = $(MODULES_UNIT_LIBS)

t_unit_test_vault_SOURCES = t/unit/test_vault.c
t_unit_test_vault_CFLAGS = $(MODULES_UNIT_CFLAGS)
t_unit_test_vault_LDADD = $(MODULES_UNIT_LIBS)

t_unit_test_session_keys_SOURCES = t/unit/test_session_keys.c
t_unit_test_session_keys_CFLAGS = $(MODULES_UNIT_CFLAGS)
t_unit_test_session_keys_LDADD = $(MODULES_UNIT_LIBS)

t_unit_test_session_script_SOURCES = t/unit/test_session_script.c t/unit/redis_fixture.c \
	t/unit/redis_fixture.h
t_unit_test_session_script_CFLAGS = $(MODULES_UNIT_CFLAGS)
t_unit_test_session_script_LDADD = $(MODULES_UNIT_LIBS)

t_unit_test_redis_pool_SOURCES = t/unit/test_redis_pool.c t/unit/redis_fixture.c \
	t/unit/redis_fixture.h
t_unit_test_redis_pool_CFLAGS = $(MODULES_UNIT_CFLAGS)
t_unit_test_redis_pool_LDADD = $(MODULES_UNIT_LIBS)
