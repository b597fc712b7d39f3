# Check tests of access control internals
ACL_UNIT_CFLAGS = $(UNIT_CFLAGS) $(APXS_CPPFLAGS) $(APR_CFLAGS) -I$(top_srcdir)/modules
ACL_UNIT_LIBS = modules/libidgw_acl.la $(UNIT_LIBS) $(APR_LIBS)

check_PROGRAMS += t/unit/test_cidr t/unit/test_limiter
TESTS += t/unit/test_cidr t/unit/test_limiter
t_unit_test_cidr_SOURCES = t/unit/test_cidr.c
t_unit_test_cidr_CFLAGS = $(ACL_UNIT_CFLAGS)
t_unit_test_cidr_LDADD = $(ACL_UNIT_LIBS)
t_unit_test_limiter_SOURCES = t/unit/test_limiter.c
t_unit_test_limiter_CFLAGS = $(ACL_UNIT_CFLAGS)
t_unit_test_limiter_LDADD = $(ACL_UNIT_LIBS)
