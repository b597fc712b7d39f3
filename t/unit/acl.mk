# Check tests of access control internals
