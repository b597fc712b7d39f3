# mod_idgw_convert and its helpers (smartphone API, conversion, relay)
#
# libidgw_convert.la: the handler's code that needs no running httpd (safe XML
# parse of the app's requests, field checks, the telegram mapping, answers),
# linked into mod_idgw_convert.so and into the Check tests alike.
noinst_LTLIBRARIES += modules/libidgw_convert.la
modules_libidgw_convert_la_SOURCES = \
	modules/idgw_sp_xml.c modules/idgw_sp_xml.h \
	modules/idgw_sp_request.c modules/idgw_sp_request.h \
	modules/idgw_convert_errors.c modules/idgw_convert_errors.h \
	modules/idgw_convert_map.c modules/idgw_convert_map.h \
	modules/idgw_convert_ctx.c modules/idgw_convert_ctx.h \
	modules/idgw_convert_engine.c modules/idgw_convert_engine.h \
	modules/idgw_convert_answer.c modules/idgw_convert_answer.h \
	modules/idgw_convert_send.c modules/idgw_convert_send.h
modules_libidgw_convert_la_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/modules $(APXS_CPPFLAGS) \
	$(APR_CFLAGS) $(APU_CFLAGS) $(XML2_CFLAGS) $(OPENSSL_CFLAGS)
modules_libidgw_convert_la_LIBADD = $(XML2_LIBS) $(APU_LIBS) $(APR_LIBS)

# the module: httpd glue only; the work is in the convenience libraries
modules_LTLIBRARIES += modules/mod_idgw_convert.la
modules_mod_idgw_convert_la_SOURCES = modules/mod_idgw_convert.c \
	modules/idgw_convert_cfg.c modules/idgw_convert_cfg.h
modules_mod_idgw_convert_la_CPPFLAGS = $(IDGW_MODULE_CPPFLAGS)
modules_mod_idgw_convert_la_LDFLAGS = -module -avoid-version -shared
modules_mod_idgw_convert_la_LIBADD = modules/libidgw_convert.la modules/libidgw_backend.la \
	modules/libidgw.la libfelica/libfelica.la $(IDGW_MODULE_LIBS)

