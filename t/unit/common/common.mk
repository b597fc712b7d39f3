# modules/common: operation/step vocabulary, vault, CIDR parsing, counters,
# directive value parsers.
COMMON_UNIT_CFLAGS = $(UNIT_CFLAGS) $(IDGW_COMMON_CPPFLAGS) -pthread
COMMON_UNIT_LIBS = modules/common/libidgw_common.la $(UNIT_LIBS) $(APU_LIBS) $(APR_LIBS) \
	-lpthread
check_PROGRAMS += t/unit/common/test_transitions t/unit/common/test_vault \
	t/unit/common/test_cidr t/unit/common/test_metrics t/unit/common/test_conf_parse \
	t/unit/common/test_op_path
TESTS += t/unit/common/test_transitions t/unit/common/test_vault \
	t/unit/common/test_cidr t/unit/common/test_metrics t/unit/common/test_conf_parse \
	t/unit/common/test_op_path
t_unit_common_test_transitions_SOURCES = t/unit/common/test_transitions.c
t_unit_common_test_transitions_CFLAGS = $(COMMON_UNIT_CFLAGS)
t_unit_common_test_transitions_LDADD = $(COMMON_UNIT_LIBS)
t_unit_common_test_op_path_SOURCES = t/unit/common/test_op_path.c
t_unit_common_test_op_path_CFLAGS = $(COMMON_UNIT_CFLAGS)
t_unit_common_test_op_path_LDADD = $(COMMON_UNIT_LIBS)
t_unit_common_test_vault_SOURCES = t/unit/common/test_vault.c
t_unit_common_test_vault_CFLAGS = $(COMMON_UNIT_CFLAGS)
t_unit_common_test_vault_LDADD = $(COMMON_UNIT_LIBS)
t_unit_common_test_cidr_SOURCES = t/unit/common/test_cidr.c
t_unit_common_test_cidr_CFLAGS = $(COMMON_UNIT_CFLAGS)
t_unit_common_test_cidr_LDADD = $(COMMON_UNIT_LIBS)
t_unit_common_test_metrics_SOURCES = t/unit/common/test_metrics.c
t_unit_common_test_metrics_CFLAGS = $(COMMON_UNIT_CFLAGS)
t_unit_common_test_metrics_LDADD = $(COMMON_UNIT_LIBS)
t_unit_common_test_conf_parse_SOURCES = t/unit/common/test_conf_parse.c
t_unit_common_test_conf_parse_CFLAGS = $(COMMON_UNIT_CFLAGS)
t_unit_common_test_conf_parse_LDADD = $(COMMON_UNIT_LIBS)
