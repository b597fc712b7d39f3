/*
 * idgw_httpd.h - include httpd's headers from the idgw modules.
 *
 * configure passes PACKAGE_NAME & co. on the compiler command line and
 * httpd's ap_config_auto.h defines them again; dropping ours first keeps
 * the build free of redefinition warnings.  Include this before any other
 * httpd header.
 */
#ifndef IDGW_HTTPD_H
#define IDGW_HTTPD_H

#undef PACKAGE_NAME
#undef PACKAGE_STRING
#undef PACKAGE_TARNAME
#undef PACKAGE_VERSION
#undef PACKAGE_BUGREPORT
#undef PACKAGE_URL
#include <httpd.h>

#endif
