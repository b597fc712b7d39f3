# Check tests: chip part (see local.mk)
