# Apache::Test integration suite (t/TEST.PL, t/conf, t/*.t)
