# libFuzzer harnesses: built with clang by scripts/idgw-fuzz, not by make.
EXTRA_DIST += $(wildcard $(srcdir)/t/fuzz/*.c) $(wildcard $(srcdir)/t/fuzz/corpus/*/*)
