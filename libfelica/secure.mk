# libfelica: secure sources (see local.mk)
