# modules/backend: the client against a TLS test server, its configuration,
# the telegram codec.
BACKEND_UNIT_CFLAGS = $(UNIT_CFLAGS) $(IDGW_BACKEND_CPPFLAGS) \
	-DIDGW_SRCDIR='"$(abs_top_srcdir)"'
BACKEND_UNIT_LIBS = modules/backend/libidgw_backend.la \
	modules/common/libidgw_common.la $(UNIT_LIBS) $(APU_LIBS) $(APR_LIBS) \
	$(XML2_LIBS) -lpthread
check_PROGRAMS += t/unit/backend/test_backend_client t/unit/backend/test_backend_config \
	t/unit/backend/test_telegram t/unit/backend/test_xml_wipe
TESTS += t/unit/backend/test_backend_client t/unit/backend/test_backend_config \
	t/unit/backend/test_telegram t/unit/backend/test_xml_wipe
t_unit_backend_test_backend_client_SOURCES = t/unit/backend/test_backend_client.c \
	t/unit/backend/backend_test_server.c t/unit/backend/backend_test_server.h
t_unit_backend_test_backend_client_CFLAGS = $(BACKEND_UNIT_CFLAGS)
t_unit_backend_test_backend_client_LDADD = $(BACKEND_UNIT_LIBS)
t_unit_backend_test_backend_config_SOURCES = t/unit/backend/test_backend_config.c
t_unit_backend_test_backend_config_CFLAGS = $(BACKEND_UNIT_CFLAGS)
t_unit_backend_test_backend_config_LDADD = $(BACKEND_UNIT_LIBS)
t_unit_backend_test_telegram_SOURCES = t/unit/backend/test_telegram.c
t_unit_backend_test_telegram_CFLAGS = $(BACKEND_UNIT_CFLAGS)
t_unit_backend_test_telegram_LDADD = $(BACKEND_UNIT_LIBS)
t_unit_backend_test_xml_wipe_SOURCES = t/unit/backend/test_xml_wipe.c \
	t/unit/backend/xml_free_recorder.h
t_unit_backend_test_xml_wipe_CFLAGS = $(BACKEND_UNIT_CFLAGS)
t_unit_backend_test_xml_wipe_LDADD = $(BACKEND_UNIT_LIBS)
