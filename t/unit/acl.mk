# Check tests of access control internals
ACL_UNIT_CFLAGS = $(UNIT_CFLAGS) $(ACL_HTTPD_CPPFLAGS) -I$(top_srcdir)/modules
ACL_UNIT_LIBS = modules/libidgw_acl.la $(UNIT_LIBS) $(HIREDIS_LIBS) $(APR_LIBS)

check_PROGRAMS += t/unit/test_cidr t/unit/test_limiter t/unit/test_acl_lists \
	t/unit/test_acl_script
TESTS += t/unit/test_cidr t/unit/test_limiter t/unit/test_acl_lists \
	t/unit/test_acl_script
t_unit_test_cidr_SOURCES = t/unit/test_cidr.c
t_unit_test_cidr_CFLAGS = $(ACL_UNIT_CFLAGS)
t_unit_test_cidr_LDADD = $(ACL_UNIT_LIBS)
t_unit_test_limiter_SOURCES = t/unit/test_limiter.c
t_unit_test_limiter_CFLAGS = $(ACL_UNIT_CFLAGS)
t_unit_test_limiter_LDADD = $(ACL_UNIT_LIBS)
t_unit_test_acl_lists_SOURCES = t/unit/test_acl_lists.c
t_unit_test_acl_lists_CFLAGS = $(ACL_UNIT_CFLAGS)
t_unit_test_acl_lists_LDADD = $(ACL_UNIT_LIBS)
# the Lua scripts against a redis-server it starts on 127.0.0.1:6403
t_unit_test_acl_script_SOURCES = t/unit/test_acl_script.c
t_unit_test_acl_script_CFLAGS = $(ACL_UNIT_CFLAGS)
t_unit_test_acl_script_LDADD = $(ACL_UNIT_LIBS)
