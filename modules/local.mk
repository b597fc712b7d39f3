# httpd modules.  The rooms, from the bottom up (LAYOUT.md):
#   common/   error table and XML answers, config parsers, the smartphone API's
#             vocabulary, the counters registry, the vault      (uses nothing of ours)
#   redis/    connection, per-child pool, Sentinel, script composer   (uses common)
#   backend/  HTTP/1.1 client and the feature-phone telegrams        (uses common)
#   session/ acl/ convert/ status/   one module each; they meet only through
#             modules/mod_idgw.h (optional functions and hooks)
# Each room's fragment builds a convenience library of its code (linked into
# the modules and into the Check tests alike) and, for a module room, the .so.
# The include path of a target names exactly the rooms it may use, so a file
# that reaches into another module's room does not compile;
# t/unit/layout/check-rooms checks the same rule over every file.

IDGW_COMMON_CPPFLAGS = -I$(top_srcdir)/modules/common \
	$(APXS_CPPFLAGS) $(APR_CFLAGS) $(APU_CFLAGS) $(OPENSSL_CFLAGS)
IDGW_REDIS_CPPFLAGS = -I$(top_srcdir)/modules/redis $(IDGW_COMMON_CPPFLAGS) $(HIREDIS_CFLAGS)
IDGW_BACKEND_CPPFLAGS = -I$(top_srcdir)/modules/backend $(IDGW_COMMON_CPPFLAGS) $(XML2_CFLAGS)
# what a module room sees: the cross-module API, the lower rooms and libfelica
IDGW_MODULE_CPPFLAGS = -I$(top_srcdir)/modules -I$(top_srcdir)/modules/common \
	-I$(top_srcdir)/modules/redis -I$(top_srcdir)/modules/backend $(LIBFELICA_CPPFLAGS) \
	$(APXS_CPPFLAGS) $(APR_CFLAGS) $(APU_CFLAGS) $(HIREDIS_CFLAGS) \
	$(OPENSSL_CFLAGS) $(XML2_CFLAGS)
IDGW_MODULE_LIBS = $(HIREDIS_LIBS) $(OPENSSL_LIBS) $(XML2_LIBS) $(APU_LIBS) $(APR_LIBS)
IDGW_MODULE_LDFLAGS = -module -avoid-version -shared

modulesdir = $(APXS_LIBEXECDIR)
modules_LTLIBRARIES =
dist_noinst_HEADERS = modules/mod_idgw.h

include $(srcdir)/modules/common/common.mk
include $(srcdir)/modules/redis/redis.mk
include $(srcdir)/modules/backend/backend.mk
include $(srcdir)/modules/session/session.mk
include $(srcdir)/modules/acl/acl.mk
include $(srcdir)/modules/convert/convert.mk
include $(srcdir)/modules/status/status.mk
