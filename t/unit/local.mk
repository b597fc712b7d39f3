# Check unit tests, one folder per room of modules/ and libfelica/.  Each
# program links the same convenience libraries as the product.  Check is
# needed only here: configure builds these when it finds Check, and
# `make check` refuses to run without it (HAVE_CHECK, Makefile.am).
UNIT_CFLAGS = $(AM_CFLAGS) $(CHECK_CFLAGS) $(OPENSSL_CFLAGS)
UNIT_LIBS = libfelica/libfelica.la $(CHECK_LIBS) $(OPENSSL_LIBS)

include $(srcdir)/t/unit/frame/frame.mk
include $(srcdir)/t/unit/docs/docs.mk
include $(srcdir)/t/unit/secure/secure.mk
include $(srcdir)/t/unit/chip/chip.mk
include $(srcdir)/t/unit/issuance/issuance.mk
include $(srcdir)/t/unit/tools/tools.mk
include $(srcdir)/t/unit/common/common.mk
include $(srcdir)/t/unit/redis/redis.mk
include $(srcdir)/t/unit/backend/backend.mk
include $(srcdir)/t/unit/session/session.mk
include $(srcdir)/t/unit/acl/acl.mk
include $(srcdir)/t/unit/convert/convert.mk
include $(srcdir)/t/unit/layout/layout.mk
include $(srcdir)/t/unit/scripts/scripts.mk
