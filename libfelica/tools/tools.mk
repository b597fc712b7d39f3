# libfelica/tools: felicactl, the operators' and tests' command line on
# libfelica (built as libfelica/felicactl, the path the docs name).
bin_PROGRAMS += libfelica/felicactl
libfelica_felicactl_SOURCES = libfelica/tools/felicactl.c
libfelica_felicactl_LDADD = libfelica/libfelica.la $(OPENSSL_LIBS)
