# Check tests: issuance part (owned by H3b)
