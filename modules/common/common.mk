# modules/common: what every room may use and that uses nothing of ours.
noinst_LTLIBRARIES += modules/common/libidgw_common.la
modules_common_libidgw_common_la_CPPFLAGS = $(IDGW_COMMON_CPPFLAGS)
modules_common_libidgw_common_la_SOURCES = \
	modules/common/idgw_cidr.c modules/common/idgw_cidr.h \
	modules/common/idgw_conf.h \
	modules/common/idgw_conf_parse.c modules/common/idgw_conf_parse.h \
	modules/common/idgw_httpd.c modules/common/idgw_httpd.h \
	modules/common/idgw_identity.c modules/common/idgw_identity.h \
	modules/common/idgw_limiter.c modules/common/idgw_limiter.h \
	modules/common/idgw_limiter_table.c \
	modules/common/idgw_metrics.c modules/common/idgw_metrics.h \
	modules/common/idgw_transitions.c modules/common/idgw_transitions.h \
	modules/common/idgw_vault.c modules/common/idgw_vault.h \
	modules/common/idgw_xml_error.c modules/common/idgw_xml_error.h \
	modules/common/idgw_xml_error_http.c \
	modules/common/idgw_log_limit.c modules/common/idgw_log_limit.h
