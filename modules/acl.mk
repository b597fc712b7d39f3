# mod_idgw_acl and its helpers (access control)
#
# libidgw_acl.la: the module's code without the httpd glue that needs a running
# server, linked into mod_idgw_acl.so and into the Check tests alike.
noinst_LTLIBRARIES += modules/libidgw_acl.la
modules_libidgw_acl_la_SOURCES = \
	modules/idgw_cidr.c modules/idgw_cidr.h \
	modules/idgw_limiter.c modules/idgw_limiter.h \
	modules/idgw_acl_limiter_table.c
modules_libidgw_acl_la_CPPFLAGS = $(AM_CPPFLAGS) $(APXS_CPPFLAGS) $(APR_CFLAGS) $(APU_CFLAGS)
modules_libidgw_acl_la_LIBADD = $(APR_LIBS)
