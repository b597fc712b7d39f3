# The backend client and the feature-phone telegram codec: a convenience
# library of their own, linked into mod_idgw_convert, the simulators' module
# and the unit tests.
noinst_LTLIBRARIES += modules/libidgw_backend.la
modules_libidgw_backend_la_SOURCES = \
	modules/idgw_backend.h modules/idgw_backend_int.h \
	modules/idgw_backend_error.c modules/idgw_backend_url.c \
	modules/idgw_backend_config.c modules/idgw_backend_directive.c \
	modules/idgw_backend_conn.c \
	modules/idgw_backend_tls.c modules/idgw_backend_http.c \
	modules/idgw_backend_pool.c modules/idgw_backend_call.c \
	modules/idgw_telegram.h modules/idgw_telegram.c \
	modules/idgw_telegram_schema.c modules/idgw_telegram_xml.c
modules_libidgw_backend_la_CPPFLAGS = $(AM_CPPFLAGS) $(APXS_CPPFLAGS) $(APR_CFLAGS) \
	$(APU_CFLAGS) $(OPENSSL_CFLAGS) $(XML2_CFLAGS)
modules_libidgw_backend_la_LIBADD = $(APU_LIBS) $(APR_LIBS) $(OPENSSL_LIBS) $(XML2_LIBS)
