# Check unit tests.  Each links the same convenience libraries as the product.
UNIT_CFLAGS = $(AM_CFLAGS) $(CHECK_CFLAGS) $(OPENSSL_CFLAGS)
UNIT_LIBS = libfelica/libfelica.la $(CHECK_LIBS) $(OPENSSL_LIBS)

include $(srcdir)/t/unit/frame.mk
include $(srcdir)/t/unit/secure.mk
include $(srcdir)/t/unit/chip.mk
include $(srcdir)/t/unit/modules.mk
include $(srcdir)/t/unit/backend.mk
include $(srcdir)/t/unit/acl.mk
include $(srcdir)/t/unit/convert.mk
include $(srcdir)/t/unit/status.mk
