# libfelica: the chip secure-write protocol, a PIC convenience library linked
# into felicactl, the unit tests, the simulators and the httpd modules.
noinst_LTLIBRARIES += libfelica/libfelica.la
libfelica_libfelica_la_SOURCES =
libfelica_libfelica_la_CFLAGS = $(AM_CFLAGS) $(OPENSSL_CFLAGS)
libfelica_libfelica_la_LIBADD = $(OPENSSL_LIBS)

# Each part keeps its sources in its own fragment.
include $(srcdir)/libfelica/frame.mk
include $(srcdir)/libfelica/secure.mk
include $(srcdir)/libfelica/chip.mk
include $(srcdir)/libfelica/issuance.mk
