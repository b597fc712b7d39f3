# Check tests of the metrics
