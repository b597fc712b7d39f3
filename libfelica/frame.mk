# libfelica: frame sources (see local.mk)
