# Check tests of the metrics
check_PROGRAMS += t/unit/test_metrics
TESTS += t/unit/test_metrics
t_unit_test_metrics_SOURCES = t/unit/test_metrics.c
t_unit_test_metrics_CFLAGS = $(UNIT_CFLAGS) $(STATUS_HTTPD_CPPFLAGS) -pthread
t_unit_test_metrics_LDADD = modules/libidgw_metrics.la $(UNIT_LIBS) $(APU_LIBS) $(APR_LIBS) -lpthread
