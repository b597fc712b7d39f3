# Check tests: secure part (see local.mk)
