dist_noinst_DATA += docs/libfelica.md
