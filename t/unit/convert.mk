# Check tests of the convert module's internals
