# modules/redis: one connection (hiredis), the per-child pool with Sentinel
# discovery, the Redis Cluster router (slots, map, redirections), and the
# per-request script composer whose parts the modules register.
noinst_LTLIBRARIES += modules/redis/libidgw_redis.la
modules_redis_libidgw_redis_la_CPPFLAGS = $(IDGW_REDIS_CPPFLAGS)
modules_redis_libidgw_redis_la_SOURCES = \
	modules/redis/idgw_redis.c modules/redis/idgw_redis.h \
	modules/redis/idgw_redis_pool.c modules/redis/idgw_redis_pool.h \
	modules/redis/idgw_redis_batch.c modules/redis/idgw_redis_batch.h \
	modules/redis/idgw_redis_sentinel.c \
	modules/redis/idgw_cluster_map.c modules/redis/idgw_cluster_map.h \
	modules/redis/idgw_cluster.c modules/redis/idgw_cluster.h \
	modules/redis/idgw_cluster_int.h modules/redis/idgw_cluster_call.c \
	modules/redis/idgw_redis_history.c \
	modules/redis/idgw_script.c modules/redis/idgw_script.h
