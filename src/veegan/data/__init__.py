"""Datasets. Each built-in one is a :class:`~.base.DatasetSpec` (name, factory, files, scorer,
preset) registered by its module: the paper's synthetic mixtures (:mod:`.synthetic`), its image
datasets (:mod:`.images`, :mod:`.stacked_mnist`). The user's own arrays come from
:mod:`.arrays`; file formats are read in :mod:`.readers` and :mod:`.mnist`, and :mod:`.download`
fetches MNIST and CIFAR-10 into a cache. :mod:`.catalog` imports them all and builds a dataset
by name."""
