# modules/session: key names and identities, and the real Lua scripts against
# a redis-server the test starts itself on 127.0.0.1:6398.
SESSION_UNIT_CFLAGS = $(UNIT_CFLAGS) $(IDGW_SESSION_CPPFLAGS) -I$(top_srcdir)/t/unit/redis
SESSION_UNIT_LIBS = modules/session/libidgw_session.la modules/redis/libidgw_redis.la \
	modules/common/libidgw_common.la $(UNIT_LIBS) $(HIREDIS_LIBS) $(APU_LIBS) $(APR_LIBS)
check_PROGRAMS += t/unit/session/test_session_keys t/unit/session/test_session_lua \
	t/unit/session/test_session_script
TESTS += t/unit/session/test_session_keys t/unit/session/test_session_lua \
	t/unit/session/test_session_script
t_unit_session_test_session_keys_SOURCES = t/unit/session/test_session_keys.c
t_unit_session_test_session_keys_CFLAGS = $(SESSION_UNIT_CFLAGS)
t_unit_session_test_session_keys_LDADD = $(SESSION_UNIT_LIBS)
t_unit_session_test_session_script_SOURCES = t/unit/session/test_session_script.c \
	$(REDIS_FIXTURE)
t_unit_session_test_session_script_CFLAGS = $(SESSION_UNIT_CFLAGS)
t_unit_session_test_session_script_LDADD = $(SESSION_UNIT_LIBS)
t_unit_session_test_session_lua_SOURCES = t/unit/session/test_session_lua.c
t_unit_session_test_session_lua_CFLAGS = $(SESSION_UNIT_CFLAGS)
t_unit_session_test_session_lua_LDADD = $(SESSION_UNIT_LIBS)
# the table of sessions a child refreshed a moment ago (no Redis)
check_PROGRAMS += t/unit/session/test_session_touch
TESTS += t/unit/session/test_session_touch
t_unit_session_test_session_touch_SOURCES = t/unit/session/test_session_touch.c
t_unit_session_test_session_touch_CFLAGS = $(SESSION_UNIT_CFLAGS)
t_unit_session_test_session_touch_LDADD = $(SESSION_UNIT_LIBS)
