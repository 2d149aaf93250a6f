r"""The engine: Algorithm 1 and everything a training run needs around it.

- :mod:`ganlib.engine.loop`: the training loop (:class:`~ganlib.engine.loop.Trainer`);
- :mod:`ganlib.engine.accelerator`: where and how the loop computes (device, precision, processes, compilation);
- :mod:`ganlib.engine.callbacks`: everything around the loop (history, moving average, snapshots, checkpoints);
- :mod:`ganlib.engine.ensemble`: S games stacked in one loop;
- :mod:`ganlib.engine.config`: a run's configuration (:class:`~ganlib.engine.config.TrainConfig`);
- :mod:`ganlib.engine.optim`: the players' optimisers and schedules;
- :mod:`ganlib.engine.precision`: mixed precision (bf16, fp16 with a gradient scaler per player);
- :mod:`ganlib.engine.distributed`: one game on several processes under ``torchrun``;
- :mod:`ganlib.engine.checkpoint`: atomic, ``weights_only`` checkpoints;
- :mod:`ganlib.engine.contract`: what a trainer checks of its data and players before it starts;
- :mod:`ganlib.engine.runtime`: quick mode, devices, seeds and the run's banner;
- :mod:`ganlib.engine.workers`: independent runs in worker processes, one CPU thread each.

It is built on :mod:`ganlib.game` and :mod:`ganlib.nets`; evaluation, recipes and pictures are
built on it.
"""
