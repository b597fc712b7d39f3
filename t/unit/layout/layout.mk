# The rooms' include rules (LAYOUT.md), checked over every file of modules/
# and libfelica/ on each `make check`.
dist_check_SCRIPTS = t/unit/layout/check-rooms
TESTS += t/unit/layout/check-rooms
