# Check tests of access control internals
ACL_UNIT_CFLAGS = $(UNIT_CFLAGS) $(ACL_HTTPD_CPPFLAGS) -I$(top_srcdir)/modules
ACL_UNIT_LIBS = modules/libidgw_acl.la $(UNIT_LIBS) $(HIREDIS_LIBS) $(APR_LIBS)

check_PROGRAMS += t/unit/test_cidr t/unit/test_limiter t/unit/test_acl_lists
TESTS += t/unit/test_cidr t/unit/test_limiter t/unit/test_acl_lists
t_unit_test_cidr_SOURCES = t/unit/test_cidr.c
t_unit_test_cidr_CFLAGS = $(ACL_UNIT_CFLAGS)
t_unit_test_cidr_LDADD = $(ACL_UNIT_LIBS)
t_unit_test_limiter_SOURCES = t/unit/test_limiter.c
t_unit_test_limiter_CFLAGS = $(ACL_UNIT_CFLAGS)
t_unit_test_limiter_LDADD = $(ACL_UNIT_LIBS)
t_unit_test_acl_lists_SOURCES = t/unit/test_acl_lists.c
t_unit_test_acl_lists_CFLAGS = $(ACL_UNIT_CFLAGS)
t_unit_test_acl_lists_LDADD = $(ACL_UNIT_LIBS)
