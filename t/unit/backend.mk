# Check tests of the backend client
