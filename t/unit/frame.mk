# Check tests: frame part (see local.mk)
