"""Many runs at once: sweeps over worker processes (:mod:`.sweep`), ``veegan compare``, and the
paper's Table 1 and Table 2 (:mod:`.table1`, :mod:`.table2`) with their shared helpers
(:mod:`.tables`)."""
