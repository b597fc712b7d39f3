# libfelica: issuance session and iD card layout sources (owned by H3b)
