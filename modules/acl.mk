# mod_idgw_acl and its helpers (access control)
#
# httpd's ap_config_auto.h defines PACKAGE_* itself; drop configure's -D
# definitions of them so the two do not collide (warning-free build).
ACL_HTTPD_CPPFLAGS = -UPACKAGE_NAME -UPACKAGE_STRING -UPACKAGE_TARNAME \
	-UPACKAGE_VERSION -UPACKAGE_BUGREPORT -UPACKAGE_URL \
	$(APXS_CPPFLAGS) $(APR_CFLAGS) $(APU_CFLAGS) $(HIREDIS_CFLAGS)

# libidgw_acl.la: the module's code without the module record, linked into
# mod_idgw_acl.so and into the Check tests alike.
noinst_LTLIBRARIES += modules/libidgw_acl.la
modules_libidgw_acl_la_SOURCES = \
	modules/idgw_cidr.c modules/idgw_cidr.h \
	modules/idgw_limiter.c modules/idgw_limiter.h \
	modules/idgw_acl_limiter_table.c \
	modules/idgw_acl_lists.c modules/idgw_acl_lists.h \
	modules/idgw_acl_cache.c modules/idgw_acl_cache.h \
	modules/idgw_acl_script.c modules/idgw_acl_script.h \
	modules/idgw_acl_reply.c modules/idgw_acl_reply.h \
	modules/idgw_acl_errors.c modules/idgw_acl_errors.h \
	modules/idgw_acl_config.c modules/idgw_acl_config.h \
	modules/idgw_acl_request.c modules/idgw_acl_request.h \
	modules/idgw_acl_export.h
modules_libidgw_acl_la_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/modules $(ACL_HTTPD_CPPFLAGS)
modules_libidgw_acl_la_LIBADD = $(HIREDIS_LIBS) $(APR_LIBS)

# The module: mod_idgw_session's common library supplies the Redis pool,
# the script argument builder and the XML errors.
modules_LTLIBRARIES += modules/mod_idgw_acl.la
modules_mod_idgw_acl_la_SOURCES = modules/mod_idgw_acl.c
modules_mod_idgw_acl_la_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/modules \
	$(ACL_HTTPD_CPPFLAGS) $(OPENSSL_CFLAGS) $(XML2_CFLAGS)
modules_mod_idgw_acl_la_LDFLAGS = -module -avoid-version -shared
modules_mod_idgw_acl_la_LIBADD = modules/libidgw_acl.la modules/libidgw.la \
	$(HIREDIS_LIBS) $(OPENSSL_LIBS) $(XML2_LIBS) $(APU_LIBS) $(APR_LIBS)

# The admin command.
dist_noinst_SCRIPTS += scripts/idgw-acl

# Its Apache::Test files (t/acl_*.t, run by `make check-integration` with the
# rest of the suite): copied into an out-of-tree build like the others.
IDGW_ACL_ITEST_FILES = t/conf/acl.conf.in t/lib/IdgwTest/Acl.pm \
	t/acl_network.t t/acl_whitelist.t t/acl_blacklist.t t/acl_fleet.t \
	t/acl_rate.t t/acl_autoban.t t/acl_redis_down.t t/acl_config.t
EXTRA_DIST += $(IDGW_ACL_ITEST_FILES)
check-integration: acl-itest-files
acl-itest-files:
	@if test "$(abs_srcdir)" != "$(abs_builddir)"; then \
	  for f in $(IDGW_ACL_ITEST_FILES); do \
	    $(MKDIR_P) `dirname $$f` && cp -p $(srcdir)/$$f $$f || exit 1; \
	  done; \
	fi
clean-local: clean-acl-itest
clean-acl-itest:
	-rm -rf t/htdocs/acl t/conf/acl-second.conf t/conf/acl-check.conf \
	  t/logs/acl-second t/logs/acl-check
	-if test "$(abs_srcdir)" != "$(abs_builddir)"; then rm -f $(IDGW_ACL_ITEST_FILES); fi
.PHONY: acl-itest-files clean-acl-itest
