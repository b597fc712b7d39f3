# The rooms' include rules (LAYOUT.md), checked over every file of modules/
# and libfelica/ on each `make check`; and no circles between files, checked
# over the objects the build made of modules/, libfelica/ and t/sim/.
dist_check_SCRIPTS = t/unit/layout/check-rooms t/unit/layout/check-circles
TESTS += t/unit/layout/check-rooms t/unit/layout/check-circles
