# Check tests of the modules' internals
