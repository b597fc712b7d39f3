# libfelica: chip sources (see local.mk)
