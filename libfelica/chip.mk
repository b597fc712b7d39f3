# libfelica: secure-command payloads, the chip emulator and its image file (owned by H3a)
libfelica_libfelica_la_SOURCES += libfelica/felica_secure_cmd.h libfelica/felica_secure_cmd.c
