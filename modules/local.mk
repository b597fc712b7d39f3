# httpd modules: mod_idgw_session, the common convenience library (Redis, vault)
#
# modules/libidgw.la holds the code the idgw modules share; it is linked into
# each module and into the Check tests alike.  Other fragments add sources to
# it (modules/backend.mk) and add their modules to modules_LTLIBRARIES.

IDGW_MODULE_CPPFLAGS = -I$(top_srcdir)/modules -I$(top_srcdir)/libfelica \
	$(APXS_CPPFLAGS) $(APR_CFLAGS) $(APU_CFLAGS) $(HIREDIS_CFLAGS) \
	$(OPENSSL_CFLAGS) $(XML2_CFLAGS)
IDGW_MODULE_LIBS = $(HIREDIS_LIBS) $(OPENSSL_LIBS) $(XML2_LIBS) $(APU_LIBS) $(APR_LIBS)

noinst_LTLIBRARIES += modules/libidgw.la
modules_libidgw_la_CPPFLAGS = $(IDGW_MODULE_CPPFLAGS)
modules_libidgw_la_SOURCES = \
	modules/idgw_conf_parse.c modules/idgw_conf_parse.h \
	modules/idgw_lua_session.c modules/idgw_lua_session.h \
	modules/idgw_redis.c modules/idgw_redis.h \
	modules/idgw_redis_pool.c modules/idgw_redis_pool.h \
	modules/idgw_redis_sentinel.c \
	modules/idgw_script.c modules/idgw_script.h \
	modules/idgw_session_call.c modules/idgw_session_call.h \
	modules/idgw_session_keys.c modules/idgw_session_keys.h \
	modules/idgw_transitions.c modules/idgw_transitions.h \
	modules/idgw_vault.c modules/idgw_vault.h \
	modules/idgw_xml_error.c modules/idgw_xml_error.h \
	modules/idgw_xml_error_http.c modules/idgw_httpd.h \
	modules/mod_idgw.h

modulesdir = $(APXS_LIBEXECDIR)
modules_LTLIBRARIES = modules/mod_idgw_session.la
modules_mod_idgw_session_la_SOURCES = modules/mod_idgw_session.c \
	modules/idgw_session_cfg.c modules/idgw_session_cfg.h \
	modules/idgw_session_http.c modules/idgw_session_exports.c \
	modules/idgw_session_redis.c modules/idgw_session_request.c \
	modules/idgw_reaper.c modules/idgw_reaper.h
modules_mod_idgw_session_la_CPPFLAGS = $(IDGW_MODULE_CPPFLAGS)
modules_mod_idgw_session_la_LDFLAGS = -module -avoid-version -shared
modules_mod_idgw_session_la_LIBADD = modules/libidgw.la $(IDGW_MODULE_LIBS)

# docs/directives.md (the directive reference) ships with docs/ (docs/local.mk)
