# Check tests of the backend client and the feature-phone telegram codec.
BACKEND_TEST_CFLAGS = $(UNIT_CFLAGS) -I$(top_srcdir)/modules $(APXS_CPPFLAGS) $(APR_CFLAGS) \
	$(APU_CFLAGS) $(XML2_CFLAGS) -DIDGW_SRCDIR='"$(abs_top_srcdir)"'
BACKEND_TEST_LIBS = modules/libidgw_backend.la $(UNIT_LIBS) $(APU_LIBS) $(APR_LIBS) \
	$(XML2_LIBS) -lpthread

check_PROGRAMS += t/unit/test_backend_client t/unit/test_backend_config
TESTS += t/unit/test_backend_client t/unit/test_backend_config
t_unit_test_backend_client_SOURCES = t/unit/test_backend_client.c \
	t/unit/backend_test_server.c t/unit/backend_test_server.h
t_unit_test_backend_client_CFLAGS = $(BACKEND_TEST_CFLAGS)
t_unit_test_backend_client_LDADD = $(BACKEND_TEST_LIBS)
t_unit_test_backend_config_SOURCES = t/unit/test_backend_config.c
t_unit_test_backend_config_CFLAGS = $(BACKEND_TEST_CFLAGS)
t_unit_test_backend_config_LDADD = $(BACKEND_TEST_LIBS)

check_PROGRAMS += t/unit/test_telegram
TESTS += t/unit/test_telegram
t_unit_test_telegram_SOURCES = t/unit/test_telegram.c
t_unit_test_telegram_CFLAGS = $(BACKEND_TEST_CFLAGS)
t_unit_test_telegram_LDADD = $(BACKEND_TEST_LIBS)
