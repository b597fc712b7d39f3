# modules/backend: the HTTP/1.1 client over APR sockets (TLS with OpenSSL,
# keep-alive pool per backend and child) and the feature-phone telegram codec;
# linked into mod_idgw_convert, the simulators' module and the unit tests.
noinst_LTLIBRARIES += modules/backend/libidgw_backend.la
modules_backend_libidgw_backend_la_CPPFLAGS = $(IDGW_BACKEND_CPPFLAGS)
modules_backend_libidgw_backend_la_SOURCES = \
	modules/backend/idgw_backend.h modules/backend/idgw_backend_int.h \
	modules/backend/idgw_backend_error.c modules/backend/idgw_backend_url.c \
	modules/backend/idgw_backend_config.c modules/backend/idgw_backend_directive.c \
	modules/backend/idgw_backend_sock.c modules/backend/idgw_backend_conn.c \
	modules/backend/idgw_backend_tls.c modules/backend/idgw_backend_http.c \
	modules/backend/idgw_backend_pool.c modules/backend/idgw_backend_call.c \
	modules/backend/idgw_telegram.h modules/backend/idgw_telegram.c \
	modules/backend/idgw_telegram_schema.c modules/backend/idgw_telegram_xml.c \
	modules/backend/idgw_xml_wipe.c modules/backend/idgw_xml_wipe.h
