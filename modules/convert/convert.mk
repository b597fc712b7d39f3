# modules/convert: mod_idgw_convert (the app's XML, the conversion map and
# engine, relay, answers).  libidgw_convert.la is the handler's code that
# needs no running httpd, linked into the .so and into the Check tests alike.
IDGW_CONVERT_CPPFLAGS = -I$(top_srcdir)/modules/convert $(IDGW_MODULE_CPPFLAGS)
noinst_LTLIBRARIES += modules/convert/libidgw_convert.la
modules_convert_libidgw_convert_la_CPPFLAGS = $(IDGW_CONVERT_CPPFLAGS)
modules_convert_libidgw_convert_la_SOURCES = \
	modules/convert/idgw_sp_xml.c modules/convert/idgw_sp_xml.h \
	modules/convert/idgw_sp_request.c modules/convert/idgw_sp_request.h \
	modules/convert/idgw_convert_errors.c modules/convert/idgw_convert_errors.h \
	modules/convert/idgw_convert_map.c modules/convert/idgw_convert_map.h \
	modules/convert/idgw_convert_ctx.c modules/convert/idgw_convert_ctx.h \
	modules/convert/idgw_convert_engine.c modules/convert/idgw_convert_engine.h \
	modules/convert/idgw_convert_answer.c modules/convert/idgw_convert_answer.h \
	modules/convert/idgw_convert_send.c modules/convert/idgw_convert_send.h

modules_LTLIBRARIES += modules/mod_idgw_convert.la
modules_mod_idgw_convert_la_SOURCES = modules/convert/mod_idgw_convert.c \
	modules/convert/idgw_convert_acl.c modules/convert/idgw_convert_acl.h \
	modules/convert/idgw_convert_cfg.c modules/convert/idgw_convert_cfg.h \
	modules/convert/idgw_convert_settle.c modules/convert/idgw_convert_settle.h
modules_mod_idgw_convert_la_CPPFLAGS = $(IDGW_CONVERT_CPPFLAGS)
modules_mod_idgw_convert_la_LDFLAGS = $(IDGW_MODULE_LDFLAGS)
modules_mod_idgw_convert_la_LIBADD = modules/convert/libidgw_convert.la \
	modules/backend/libidgw_backend.la modules/redis/libidgw_redis.la \
	modules/common/libidgw_common.la libfelica/libfelica.la $(IDGW_MODULE_LIBS)
