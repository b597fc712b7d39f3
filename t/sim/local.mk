# backend simulators (t/sim)
