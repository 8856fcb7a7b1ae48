"""Measuring generators: mode metrics (:mod:`.modes`), the Stacked-MNIST digit classifier,
inference via optimisation (:mod:`.ivom`), evaluation beside the real data (:mod:`.evaluate`),
density plots and image grids, and a run's final report (:mod:`.report`)."""
