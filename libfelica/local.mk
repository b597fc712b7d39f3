# libfelica: the chip secure-write protocol, a PIC convenience library linked
# into felicactl, the unit tests, the simulators and the httpd modules.
# One room per layer, read bottom to top: frame (public FeliCa frames),
# secure (AES-CMAC, SCP03 KDF, keys, secure channel, secure-command payloads),
# chip (the emulator and its sealed image), issuance (iD card layout, the
# FeliCa server's issuance session), tools (felicactl).  Each room lists its
# sources in its own fragment; its headers are found through LIBFELICA_CPPFLAGS.
LIBFELICA_CPPFLAGS = -I$(top_srcdir)/libfelica/frame -I$(top_srcdir)/libfelica/secure \
	-I$(top_srcdir)/libfelica/chip -I$(top_srcdir)/libfelica/issuance

noinst_LTLIBRARIES += libfelica/libfelica.la
libfelica_libfelica_la_SOURCES =
libfelica_libfelica_la_CFLAGS = $(AM_CFLAGS) $(OPENSSL_CFLAGS)
libfelica_libfelica_la_LIBADD = $(OPENSSL_LIBS)

include $(srcdir)/libfelica/frame/frame.mk
include $(srcdir)/libfelica/secure/secure.mk
include $(srcdir)/libfelica/chip/chip.mk
include $(srcdir)/libfelica/issuance/issuance.mk
include $(srcdir)/libfelica/tools/tools.mk
