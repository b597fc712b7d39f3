# The docs/ pages ship whole in the tarball.
EXTRA_DIST += docs
