# modules/session: mod_idgw_session.  libidgw_session.la holds what the unit
# tests drive without httpd (key names, the Lua scripts, their arguments and
# replies, the status read and the touch table); the .so adds the hooks,
# directives, handlers and exports.
IDGW_SESSION_CPPFLAGS = -I$(top_srcdir)/modules/session $(IDGW_MODULE_CPPFLAGS)
noinst_LTLIBRARIES += modules/session/libidgw_session.la
modules_session_libidgw_session_la_CPPFLAGS = $(IDGW_SESSION_CPPFLAGS)
modules_session_libidgw_session_la_SOURCES = \
	modules/session/idgw_lua_session.c modules/session/idgw_lua_session.h \
	modules/session/idgw_session_call.c modules/session/idgw_session_call.h \
	modules/session/idgw_session_keys.c modules/session/idgw_session_keys.h \
	modules/session/idgw_status_read.c modules/session/idgw_status_read.h \
	modules/session/idgw_session_touch.c modules/session/idgw_session_touch.h

modules_LTLIBRARIES += modules/mod_idgw_session.la
modules_mod_idgw_session_la_SOURCES = modules/session/mod_idgw_session.c \
	modules/session/idgw_session_state.c \
	modules/session/idgw_session_cfg.c modules/session/idgw_session_cfg.h \
	modules/session/idgw_session_http.c modules/session/idgw_session_exports.c \
	modules/session/idgw_session_unwatch.c \
	modules/session/idgw_session_redis.c modules/session/idgw_session_cluster.c \
	modules/session/idgw_session_reply.c \
	modules/session/idgw_session_request.c \
	modules/session/idgw_session_shed.c modules/session/idgw_session_shed.h \
	modules/session/idgw_session_tls.c \
	modules/session/idgw_reaper.c modules/session/idgw_reaper.h \
	modules/session/idgw_session_history.c modules/session/idgw_session_unsettled.c \
	modules/session/idgw_session_settle.c \
	modules/session/idgw_session_read.c
modules_mod_idgw_session_la_CPPFLAGS = $(IDGW_SESSION_CPPFLAGS)
modules_mod_idgw_session_la_LDFLAGS = $(IDGW_MODULE_LDFLAGS)
modules_mod_idgw_session_la_LIBADD = modules/session/libidgw_session.la \
	modules/redis/libidgw_redis.la modules/common/libidgw_common.la $(IDGW_MODULE_LIBS)
