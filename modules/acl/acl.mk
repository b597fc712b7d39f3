# modules/acl: mod_idgw_acl (carrier networks, lists and their cache,
# limiters, its script parts).  libidgw_acl.la is the module's code without
# the module record, linked into the .so and into the Check tests alike.
IDGW_ACL_CPPFLAGS = -I$(top_srcdir)/modules/acl $(IDGW_MODULE_CPPFLAGS)
noinst_LTLIBRARIES += modules/acl/libidgw_acl.la
modules_acl_libidgw_acl_la_CPPFLAGS = $(IDGW_ACL_CPPFLAGS)
modules_acl_libidgw_acl_la_SOURCES = \
	modules/acl/idgw_acl_lists.c modules/acl/idgw_acl_lists.h \
	modules/acl/idgw_acl_cache.c modules/acl/idgw_acl_cache.h \
	modules/acl/idgw_acl_script.c modules/acl/idgw_acl_script.h \
	modules/acl/idgw_acl_reply.c modules/acl/idgw_acl_reply.h \
	modules/acl/idgw_acl_errors.c modules/acl/idgw_acl_errors.h \
	modules/acl/idgw_acl_config.c modules/acl/idgw_acl_config.h \
	modules/acl/idgw_acl_shadow.c modules/acl/idgw_acl_shadow.h \
	modules/acl/idgw_acl_shadow_check.c modules/acl/idgw_acl_shadow_check.h \
	modules/acl/idgw_acl_natpool.c modules/acl/idgw_acl_natpool.h \
	modules/acl/idgw_acl_request.c modules/acl/idgw_acl_request.h \
	modules/acl/idgw_acl_sync.c modules/acl/idgw_acl_sync.h \
	modules/acl/idgw_acl_bans.c modules/acl/idgw_acl_bans.h \
	modules/acl/idgw_acl_lease.c modules/acl/idgw_acl_lease.h \
	modules/acl/idgw_conncap.c modules/acl/idgw_conncap.h \
	modules/acl/idgw_acl_conncap.c modules/acl/idgw_acl_conncap.h

modules_LTLIBRARIES += modules/mod_idgw_acl.la
modules_mod_idgw_acl_la_SOURCES = modules/acl/mod_idgw_acl.c
modules_mod_idgw_acl_la_CPPFLAGS = $(IDGW_ACL_CPPFLAGS)
modules_mod_idgw_acl_la_LDFLAGS = $(IDGW_MODULE_LDFLAGS)
modules_mod_idgw_acl_la_LIBADD = modules/acl/libidgw_acl.la modules/redis/libidgw_redis.la \
	modules/common/libidgw_common.la $(IDGW_MODULE_LIBS)

# The admin command.
dist_noinst_SCRIPTS += scripts/idgw-acl
