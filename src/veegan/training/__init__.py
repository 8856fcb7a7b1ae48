"""Training: the shared loop (:mod:`.trainer`), checkpoints, run directories, the metrics log,
and multi-process training with torch.distributed."""
