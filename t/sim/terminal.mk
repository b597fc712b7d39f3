# terminal simulator (the app's role on libfelica's chip emulator)
