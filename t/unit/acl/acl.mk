# modules/acl: the per-process limiter, the lists and their cache, and the
# Lua scripts against a redis-server the test starts on 127.0.0.1:6403.
ACL_UNIT_CFLAGS = $(UNIT_CFLAGS) $(IDGW_ACL_CPPFLAGS)
ACL_UNIT_LIBS = modules/acl/libidgw_acl.la modules/redis/libidgw_redis.la \
	modules/common/libidgw_common.la $(UNIT_LIBS) $(HIREDIS_LIBS) $(APU_LIBS) $(APR_LIBS)
check_PROGRAMS += t/unit/acl/test_limiter t/unit/acl/test_acl_lists t/unit/acl/test_acl_script
TESTS += t/unit/acl/test_limiter t/unit/acl/test_acl_lists t/unit/acl/test_acl_script
t_unit_acl_test_limiter_SOURCES = t/unit/acl/test_limiter.c
t_unit_acl_test_limiter_CFLAGS = $(ACL_UNIT_CFLAGS)
t_unit_acl_test_limiter_LDADD = $(ACL_UNIT_LIBS)
t_unit_acl_test_acl_lists_SOURCES = t/unit/acl/test_acl_lists.c
t_unit_acl_test_acl_lists_CFLAGS = $(ACL_UNIT_CFLAGS)
t_unit_acl_test_acl_lists_LDADD = $(ACL_UNIT_LIBS)
t_unit_acl_test_acl_script_SOURCES = t/unit/acl/test_acl_script.c
t_unit_acl_test_acl_script_CFLAGS = $(ACL_UNIT_CFLAGS)
t_unit_acl_test_acl_script_LDADD = $(ACL_UNIT_LIBS)
# the per-address connection cap's shared table (no Redis)
check_PROGRAMS += t/unit/acl/test_conncap
TESTS += t/unit/acl/test_conncap
t_unit_acl_test_conncap_SOURCES = t/unit/acl/test_conncap.c
t_unit_acl_test_conncap_CFLAGS = $(ACL_UNIT_CFLAGS)
t_unit_acl_test_conncap_LDADD = $(ACL_UNIT_LIBS)
# IdgwAclNatPool: the address limit of a carrier NAT address, pool lookup
check_PROGRAMS += t/unit/acl/test_natpool
TESTS += t/unit/acl/test_natpool
t_unit_acl_test_natpool_SOURCES = t/unit/acl/test_natpool.c
t_unit_acl_test_natpool_CFLAGS = $(ACL_UNIT_CFLAGS)
t_unit_acl_test_natpool_LDADD = $(ACL_UNIT_LIBS)
# the leases of the fleet-wide limits (no Redis)
check_PROGRAMS += t/unit/acl/test_acl_lease
TESTS += t/unit/acl/test_acl_lease
t_unit_acl_test_acl_lease_SOURCES = t/unit/acl/test_acl_lease.c
t_unit_acl_test_acl_lease_CFLAGS = $(ACL_UNIT_CFLAGS)
t_unit_acl_test_acl_lease_LDADD = $(ACL_UNIT_LIBS)
