# modules/redis: the pool against a redis-server the test starts itself on
# 127.0.0.1:6397 (redis_fixture, also used by the session script tests).
REDIS_FIXTURE = t/unit/redis/redis_fixture.c t/unit/redis/redis_fixture.h
REDIS_UNIT_CFLAGS = $(UNIT_CFLAGS) $(IDGW_REDIS_CPPFLAGS) -I$(top_srcdir)/t/unit/redis
REDIS_UNIT_LIBS = modules/redis/libidgw_redis.la modules/common/libidgw_common.la \
	$(UNIT_LIBS) $(HIREDIS_LIBS) $(APU_LIBS) $(APR_LIBS)
check_PROGRAMS += t/unit/redis/test_redis_pool
TESTS += t/unit/redis/test_redis_pool
t_unit_redis_test_redis_pool_SOURCES = t/unit/redis/test_redis_pool.c $(REDIS_FIXTURE)
t_unit_redis_test_redis_pool_CFLAGS = $(REDIS_UNIT_CFLAGS)
t_unit_redis_test_redis_pool_LDADD = $(REDIS_UNIT_LIBS)
check_PROGRAMS += t/unit/redis/test_script
TESTS += t/unit/redis/test_script
t_unit_redis_test_script_SOURCES = t/unit/redis/test_script.c
t_unit_redis_test_script_CFLAGS = $(REDIS_UNIT_CFLAGS)
t_unit_redis_test_script_LDADD = $(REDIS_UNIT_LIBS)
check_PROGRAMS += t/unit/redis/test_cluster_map
TESTS += t/unit/redis/test_cluster_map
t_unit_redis_test_cluster_map_SOURCES = t/unit/redis/test_cluster_map.c
t_unit_redis_test_cluster_map_CFLAGS = $(REDIS_UNIT_CFLAGS)
t_unit_redis_test_cluster_map_LDADD = $(REDIS_UNIT_LIBS)
# the router against a real cluster (scripts/lib/cluster.sh, ports 17100-17105
# and 27100-27105): routing, ASK/TRYAGAIN/MOVED of a migrated slot, failovers
check_PROGRAMS += t/unit/redis/test_cluster_live
TESTS += t/unit/redis/test_cluster_live
t_unit_redis_test_cluster_live_SOURCES = t/unit/redis/test_cluster_live.c
t_unit_redis_test_cluster_live_CFLAGS = $(REDIS_UNIT_CFLAGS)
t_unit_redis_test_cluster_live_LDADD = $(REDIS_UNIT_LIBS)
# the batcher: concurrent callers sharing round trips (port 6394)
check_PROGRAMS += t/unit/redis/test_redis_batch
TESTS += t/unit/redis/test_redis_batch
t_unit_redis_test_redis_batch_SOURCES = t/unit/redis/test_redis_batch.c $(REDIS_FIXTURE)
t_unit_redis_test_redis_batch_CFLAGS = $(REDIS_UNIT_CFLAGS)
t_unit_redis_test_redis_batch_LDADD = $(REDIS_UNIT_LIBS) -lpthread
