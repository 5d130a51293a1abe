"""ConvNet Studio's PyTorch engine: the child process the studio trains in when the backend is PyTorch.

  python3 engine.py CONFIG.json                       one process
  torchrun --nproc-per-node N ... engine.py CONFIG.json   DistributedDataParallel (gloo on CPU, nccl on GPUs)

The studio starts it at once and writes CONFIG.json when the data is ready: meanwhile this process
imports torch and says what it found ("hello": version, GPUs, threads), so the two overlap.

The network and its training step are the studio's PyTorch export (model.py, train.py and
weights_io.py in the package folder CONFIG names): this file only drives them. The images are the
ones the studio resolved (dataset, limits, resize, scaling to [0, 1]), handed over as raw tensor
files and memory-mapped here, so both engines train on exactly the same pixels. A run that augments
gets its training images at their stored size: each batch is cropped and flipped (train.py's
augment) and then resized here as the studio's pipeline resizes.

The studio and this process speak in lines. Out, on stdout: one event per line, prefixed with
"@convnet-studio " (the studio's training events, plus "ready" and "state"; every other line is a
log line). In, on stdin: "pause", "resume" or "stop"; the end of stdin (the studio went away)
stops the run. Under torchrun only each node's first process speaks; every process takes part in
the decision to pause or stop, which all of them then make at the same batch.
"""
import json
import math
import os
import sys
import threading
import time
import traceback

import torch
import torch.distributed as dist
import torch.nn.functional as F

PREFIX = "@convnet-studio "
# What the processes agree on between batches; the largest wish wins (a stop saves a checkpoint too).
RUN, CHECKPOINT, PAUSE, STOP = 0, 1, 2, 3
COMMANDS = {"resume": RUN, "pause": PAUSE, "stop": STOP}
# At most this many batch events a second (always the last batch of an epoch), as the studio's own engine.
BATCH_EVENTS_PER_SECOND = 10
# Optimizer state slots the studio's checkpoints keep, by PyTorch's names.
SLOTS = ("momentum_buffer", "exp_avg", "exp_avg_sq")
SATURATION_MARGIN = 0.01
# A smoothed loss this many times its first value (or chance level) has exploded (as the studio's engine).
EXPLODED = 100


def finite(value):
    """JSON has no NaN or infinity: such a number is sent as null."""
    return value if isinstance(value, (int, float)) and math.isfinite(value) else None


class Studio:
    """The line channel to the studio. Each node's first process speaks; any process may report its failure."""

    def __init__(self, speaks):
        self.speaks = speaks
        self.wanted = RUN
        self.studio_gone = False
        self.changed = threading.Event()
        if speaks:
            threading.Thread(target=self._listen, daemon=True).start()

    def _listen(self):
        for line in sys.stdin:
            command = COMMANDS.get(line.strip())
            if command is not None:
                self.wanted = command
                self.changed.set()
        self.studio_gone = True
        self.wanted = STOP
        self.changed.set()

    def emit(self, event, **fields):
        if self.speaks:
            self._write(event, fields)

    def fail(self, message, rank, kind="failed"):
        """kind: failed (this process), diverged (the loss), or peer (another process went away first)."""
        local_rank = int(os.environ.get("LOCAL_RANK", "0"))
        self._write("error", {"message": message, "rank": rank, "localRank": local_rank, "kind": kind})

    def _write(self, event, fields):
        try:
            sys.stdout.write(PREFIX + json.dumps({"event": event, **fields}, allow_nan=False) + "\n")
            sys.stdout.flush()
        except OSError:
            # Nobody reads any more: the run stops at the next batch.
            self.studio_gone = True
            self.wanted = STOP


class Group:
    """What the processes agree on between batches (over gloo, on the CPU, whatever trains the network)."""

    def __init__(self, placement):
        self.placement = placement
        self.gloo = dist.new_group(backend="gloo") if placement.distributed else None

    def most(self, value):
        """The largest value any process holds: one process asking to stop stops them all."""
        if self.gloo is None:
            return value
        t = torch.tensor([value], dtype=torch.int64)
        dist.all_reduce(t, op=dist.ReduceOp.MAX, group=self.gloo)
        return int(t.item())

    def sum(self, values):
        if self.gloo is None:
            return list(values)
        t = torch.tensor(values, dtype=torch.float64)
        dist.all_reduce(t, group=self.gloo)
        return t.tolist()

    def share_buffers(self, model):
        """Rank 0's BatchNorm statistics to every process (DistributedDataParallel syncs them only at a forward)."""
        if self.gloo is None:
            return
        for buffer in model.buffers():
            dist.broadcast(buffer, src=0)


class LayerStats:
    """Per-layer activation and gradient statistics of one training step, through hooks set for that step only."""

    def __init__(self, model, layers):
        self.layers = []
        for layer in layers:
            try:
                module = model.get_submodule(layer["module"])
            except AttributeError:
                continue  # an inline merge (Add, Concat) has no module
            self.layers.append((layer, module))
        self.handles = []
        self.captured = {}

    def arm(self):
        for layer, module in self.layers:
            self.handles.append(module.register_forward_hook(self._hook(layer["id"])))

    def _hook(self, layer_id):
        def hook(_module, _inputs, output):
            entry = {"output": output.detach()}
            self.captured[layer_id] = entry
            if output.requires_grad:
                output.register_hook(lambda grad: entry.__setitem__("grad", grad.detach()))

        return hook

    def collect(self):
        """The statistics of the step just taken; the hooks are removed."""
        for handle in self.handles:
            handle.remove()
        self.handles = []
        stats = []
        for layer, _module in self.layers:
            entry = self.captured.get(layer["id"])
            if entry is None:
                continue
            y = entry["output"].float()
            numbers = [y.mean(), y.std(unbiased=False)]
            if layer["type"] == "ReLU":
                numbers.append((y == 0).float().mean())
            elif layer["type"] == "Sigmoid":
                numbers.append(((y < SATURATION_MARGIN) | (y > 1 - SATURATION_MARGIN)).float().mean())
            elif layer["type"] == "Tanh":
                numbers.append((y.abs() > 1 - SATURATION_MARGIN).float().mean())
            grad = entry.get("grad")
            if grad is not None:
                numbers += [grad.float().mean(), grad.float().std(unbiased=False)]
            values = torch.stack(numbers).tolist()
            stat = {"id": layer["id"], "type": layer["type"], "activationMean": finite(values[0]), "activationStd": finite(values[1])}
            rest = values[2:]
            if layer["type"] == "ReLU":
                stat["deadFraction"] = finite(rest.pop(0))
            elif layer["type"] in ("Sigmoid", "Tanh"):
                stat["saturatedFraction"] = finite(rest.pop(0))
            if rest:
                stat["gradientMean"], stat["gradientStd"] = finite(rest[0]), finite(rest[1])
            stats.append(stat)
        self.captured = {}
        return stats


def tensor_file(entry):
    """A tensor the studio wrote as raw little-endian numbers, memory-mapped (never copied whole)."""
    dtype = {"float32": torch.float32, "int64": torch.int64}[entry["dtype"]]
    size = math.prod(entry["shape"])
    if size == 0:
        return torch.empty(entry["shape"], dtype=dtype)
    return torch.from_file(entry["path"], shared=False, size=size, dtype=dtype).reshape(entry["shape"])


def resize_as_studio(images, size):
    """N x C x H x W images resized bilinearly as the studio resizes them, which is PyTorch's own
    F.interpolate without aligned corners (tfjs's resizeBilinear with half-pixel centres)."""
    return F.interpolate(images, size=size, mode="bilinear", align_corners=False)


def describe_device(placement):
    if placement.device.type == "cuda":
        where = f"CUDA {torch.cuda.get_device_name(placement.device)}"
    else:
        threads = torch.get_num_threads()
        where = f"CPU, {threads} thread{'' if threads == 1 else 's'}"
    if placement.distributed:
        where += f", {placement.world} processes ({dist.get_backend()})"
    return where


def held_memory(model, optimizer, placement):
    """Bytes and count of the tensors the run keeps (weights, gradients, buffers, optimizer state); on a GPU its allocated memory."""
    tensors = [*model.parameters(), *model.buffers()]
    tensors += [p.grad for p in model.parameters() if p.grad is not None]
    tensors += [v for state in optimizer.state.values() for v in state.values() if torch.is_tensor(v)]
    count = len(tensors)
    if placement.device.type == "cuda":
        return torch.cuda.memory_allocated(placement.device), count
    return sum(t.numel() * t.element_size() for t in tensors), count


def explain(error, placement):
    """A message a person can act on for the usual ways a PyTorch run fails, and whether another process failed first."""
    text = str(error).strip().split("\n")[0]
    where = f" on {placement.device}" if placement is not None else ""
    if "out of memory" in text and ("CUDA" in text or "cuda" in type(error).__name__.lower() or "OutOfMemory" in type(error).__name__):
        return (
            f"the GPU ran out of memory{where} ({text[:200]}); lower the batch size or the input size, "
            "or train on the CPU with --device cpu",
            "failed",
        )
    if "not compiled with CUDA" in text or "no CUDA GPUs are available" in text or "CUDA driver" in text:
        return (
            f"this PyTorch cannot use a CUDA GPU here ({text[:200]}); install a CUDA build of torch "
            "and the NVIDIA driver, or train on the CPU with --device cpu",
            "failed",
        )
    if "CUDA" in text or "cuDNN" in text or "CUBLAS" in text or "NCCL" in text:
        return (
            f"a CUDA error{where}: {text[:300]}. Check the GPU (nvidia-smi) and its driver, "
            "or train on the CPU with --device cpu",
            "failed",
        )
    if "Connection closed by peer" in text or "Connection reset by peer" in text or "Broken pipe" in text:
        return f"another process of this run went away ({text[:200]})", "peer"
    frame = traceback.extract_tb(error.__traceback__)[-1] if error.__traceback__ else None
    at = f" (at {os.path.basename(frame.filename)}:{frame.lineno})" if frame else ""
    return f"{type(error).__name__}: {text[:500]}{at}", "failed"


class Engine:
    def __init__(self, config, studio):
        self.config = config
        self.studio = studio
        sys.path.insert(0, config["package"])
        import train as recipe  # the export's train.py
        from model import load_model
        from weights_io import load_safetensors, save_safetensors

        if config.get("threads"):
            torch.set_num_threads(config["threads"])
        self.recipe = recipe
        self.load_safetensors = load_safetensors
        self.save_safetensors = save_safetensors
        self.placement = recipe.place(config["device"])
        self.group = Group(self.placement)
        torch.manual_seed(config["seed"])
        data = config["data"]
        self.train_x, self.train_y = tensor_file(data["train"]["images"]), tensor_file(data["train"]["labels"])
        self.val_x, self.val_y = tensor_file(data["val"]["images"]), tensor_file(data["val"]["labels"])
        self.model = load_model().to(self.placement.device)
        self.net = recipe.wrap(self.model, self.placement)
        self.optimizer = recipe.make_optimizer(
            self.net.parameters(), config["optimizer"], config["lr"], config["momentum"], config["weightDecay"]
        )
        self.schedule = recipe.make_schedule(
            self.optimizer, config["schedule"], config["epochs"], config.get("stepSize"), config["gamma"], config["etaMin"]
        )
        augmentation = config.get("augmentation") or {"cropPadding": 0, "flip": False}
        self.crop_padding, self.flip = augmentation["cropPadding"], augmentation["flip"]
        self.fed_size = tuple(config["inputSize"])
        self.layer_stats = LayerStats(self.model, config.get("layers", []))
        position = config.get("resume") or {}
        self.epoch = position.get("epoch", 0)
        self.batch = position.get("batch", 0)
        self.steps = position.get("optimizerStep", 0)
        self.seconds_per_sample = position.get("secondsPerSample", 0.0)
        # The epoch's sums so far (over all processes), kept by rank 0 so that summing counts them once.
        partial = position.get("partial") or {"lossSum": 0.0, "correct": 0, "seen": 0}
        self.partial = [partial["lossSum"], partial["correct"], partial["seen"]] if self.placement.rank == 0 else [0.0, 0, 0]
        if position.get("optimizerState"):
            self.restore_optimizer(position["optimizerState"])
        for _ in range(self.epoch):
            if self.schedule is not None:
                self.schedule.step()
        self.last_batch_event = 0.0
        self.last_checkpoint = time.perf_counter()
        self.first_loss = position.get("firstLoss")
        self.smoothed_loss = None

    def to_device(self, x, device):
        return x.to(device, non_blocking=True)

    def feed_training(self, x, device):
        """A training batch: cropped and flipped when the run augments (draws that depend only on the seed, epoch,
        batch and rank, so a resumed run repeats them), then resized to the size the network is fed."""
        if self.crop_padding > 0 or self.flip:
            draw = ((self.config["seed"] * 1_000_003 + self.epoch) * 1_000_003 + self.batch) * 1_009 + self.placement.rank
            generator = torch.Generator().manual_seed(draw % (2**63))
            x = self.recipe.augment(x, self.crop_padding, self.flip, generator)
        if tuple(x.shape[-2:]) != self.fed_size:
            x = resize_as_studio(x, self.fed_size)
        return x.to(device, non_blocking=True)

    def restore_optimizer(self, path):
        saved = self.load_safetensors(path)
        for name, parameter in self.model.named_parameters():
            slots = {slot: saved[f"{name}.{slot}"] for slot in SLOTS if f"{name}.{slot}" in saved}
            if not slots:
                continue
            state = self.optimizer.state[parameter]
            for slot, value in slots.items():
                state[slot] = value.to(self.placement.device, parameter.dtype).reshape(parameter.shape)
            if "exp_avg" in slots:
                state["step"] = torch.tensor(float(self.steps))

    def per_process_batches(self):
        count = len(self.train_y)
        return math.ceil(math.ceil(count / self.placement.world) / self.config["batchSize"])

    def ready(self):
        placement = self.placement
        self.studio.emit(
            "ready",
            device=describe_device(placement),
            threads=torch.get_num_threads(),
            world=placement.world,
            torch=torch.__version__,
            batchesPerEpoch=self.per_process_batches(),
            distributedBackend=dist.get_backend() if placement.distributed else None,
        )

    def fit(self):
        self.ready()
        self.started = time.perf_counter()
        config = self.config
        while self.epoch < config["epochs"]:
            if not self.fit_epoch():
                return
        self.studio.emit("done", seconds=time.perf_counter() - self.started)

    def wish(self):
        """This process's wish: the studio's, or a checkpoint when the interval has passed within the epoch."""
        wanted = self.studio.wanted
        minutes = self.config.get("checkpointMinutes") or 0
        due = self.studio.speaks and minutes > 0 and self.batch > 0
        if wanted == RUN and due and time.perf_counter() - self.last_checkpoint >= minutes * 60:
            return CHECKPOINT
        return wanted

    def agree(self):
        """Run, checkpoint, or stop: every process asks, the strongest wish wins. A pause waits here, still agreeing."""
        command = self.group.most(self.wish())
        if command != PAUSE:
            return command
        self.studio.emit("paused", epoch=self.epoch + 1, batch=self.batch)
        while command == PAUSE:
            self.studio.changed.wait(0.25)
            self.studio.changed.clear()
            command = self.group.most(self.studio.wanted)
        if command == RUN:
            self.studio.emit("resumed", epoch=self.epoch + 1, batch=self.batch)
        return command

    def fit_epoch(self):
        """One epoch from where the run stands; False when the run stopped inside it."""
        config, recipe, placement = self.config, self.recipe, self.placement
        epoch_start = time.perf_counter()
        lr = self.optimizer.param_groups[0]["lr"]
        batches = recipe.epoch_batches(len(self.train_y), config["batchSize"], config["seed"], self.epoch, placement)
        count = len(batches)
        every = config.get("layerStatsEvery") or 0
        sums = list(self.partial)
        seen_before = self.partial[2] * (1 if placement.rank == 0 else 0)
        trained_here = 0
        steps = recipe.train_steps(
            self.net, self.optimizer, self.train_x, self.train_y, batches[self.batch :], placement.device, self.feed_training
        )
        while self.batch < count:
            command = self.agree()
            if command == STOP:
                self.stop(sums)
                return False
            if command == CHECKPOINT:
                self.save_state("interval", self.group.sum(sums))
            armed = every > 0 and (self.epoch * count + self.batch) % every == 0
            if armed:
                self.layer_stats.arm()
            try:
                loss, correct, size = next(steps)
            except recipe.Diverged as diverged:
                raise RunDiverged(f"{diverged} at batch {self.batch + 1} in epoch {self.epoch + 1}") from diverged
            exploded = self.divergence(loss)
            if exploded:
                raise RunDiverged(f"{exploded} at batch {self.batch + 1} in epoch {self.epoch + 1}")
            self.steps += 1
            self.batch += 1
            sums = [sums[0] + loss * size, sums[1] + correct, sums[2] + size]
            trained_here += size
            now = time.perf_counter()
            if self.batch == count or now - self.last_batch_event >= 1 / BATCH_EVENTS_PER_SECOND:
                self.last_batch_event = now
                rate = trained_here * placement.world / max(now - epoch_start, 1e-9)
                self.studio.emit(
                    "batch",
                    epoch=self.epoch + 1,
                    batch=self.batch,
                    batches=count,
                    loss=finite(loss),
                    samplesPerSec=rate,
                    etaSec=self.eta(sums[2] * placement.world, rate),
                )
            if armed:
                self.studio.emit("layerStats", epoch=self.epoch + 1, batch=self.batch, layers=self.layer_stats.collect())
        train_seconds = time.perf_counter() - epoch_start
        loss_sum, correct, seen = self.group.sum(sums)
        val_loss, val_acc = self.validate()
        seconds = time.perf_counter() - epoch_start
        trained = seen - seen_before
        if trained > 0:
            self.seconds_per_sample = seconds / trained
        memory, tensors = held_memory(self.model, self.optimizer, placement)
        self.studio.emit(
            "epoch",
            epoch=self.epoch + 1,
            epochs=config["epochs"],
            trainLoss=finite(loss_sum / seen),
            trainAcc=correct / seen,
            valLoss=finite(val_loss),
            valAcc=val_acc,
            samplesPerSec=trained / max(train_seconds, 1e-9),
            etaSec=self.seconds_per_sample * len(self.train_y) * (config["epochs"] - self.epoch - 1),
            lr=lr,
            seconds=seconds,
            backend="pytorch",
            device=describe_device(placement),
            memoryBytes=memory,
            tensors=tensors,
        )
        if not math.isfinite(val_loss):
            raise RunDiverged(f"the validation loss became {val_loss} in epoch {self.epoch + 1}")
        if self.schedule is not None:
            self.schedule.step()
        self.epoch += 1
        self.batch = 0
        self.partial = [0.0, 0, 0]
        self.save_state("epoch", [0.0, 0, 0])
        return True

    def validate(self):
        """The whole validation split, shared out among the processes, with rank 0's BatchNorm statistics."""
        placement = self.placement
        self.group.share_buffers(self.model)
        images = self.val_x[placement.rank :: placement.world]
        labels = self.val_y[placement.rank :: placement.world]
        loss, accuracy = self.recipe.evaluate(
            self.model, images, labels, placement.device, self.to_device, batch_size=self.config["batchSize"]
        )
        n = len(labels)
        loss_sum, correct, total = self.group.sum([loss * n, accuracy * n, n])
        return loss_sum / max(total, 1), correct / max(total, 1)

    def divergence(self, loss):
        """As the studio's engine: a loss that, smoothed over batches, grew past EXPLODED times the larger of
        its first value and chance level (ln of the class count), which no learning run reaches."""
        if self.first_loss is None:
            self.first_loss = loss
        self.smoothed_loss = loss if self.smoothed_loss is None else 0.9 * self.smoothed_loss + 0.1 * loss
        limit = EXPLODED * max(self.first_loss, math.log(self.config["classes"]))
        if self.smoothed_loss <= limit:
            return None
        return (
            f"the loss exploded to {loss:.4g} (smoothed {self.smoothed_loss:.4g}, "
            f"more than {EXPLODED} times its first value {self.first_loss:.4g})"
        )

    def eta(self, seen_in_epoch, rate):
        remaining = len(self.train_y) * (self.config["epochs"] - self.epoch) - seen_in_epoch
        per_sample = self.seconds_per_sample or 1 / max(rate, 1e-9)
        return max(0.0, remaining * per_sample)

    def stop(self, sums):
        totals = self.group.sum(sums)
        self.save_state("stop", totals)
        self.studio.emit("stopped", epoch=self.epoch + 1, batch=self.batch)

    def save_state(self, reason, partial):
        """Weights and optimizer slots for the studio's checkpoint, with where the run stands."""
        self.last_checkpoint = time.perf_counter()
        if not self.studio.speaks or self.studio.studio_gone:
            return
        tensors = {f"model.{key}": value for key, value in self.model.state_dict().items()}
        names = {id(p): name for name, p in self.model.named_parameters()}
        for parameter, state in self.optimizer.state.items():
            for slot in SLOTS:
                if torch.is_tensor(state.get(slot)):
                    tensors[f"optimizer.{names[id(parameter)]}.{slot}"] = state[slot]
        path = os.path.join(self.config["stateDir"], f"state-{self.epoch}-{self.batch}.safetensors")
        self.save_safetensors(tensors, path + ".part")
        os.replace(path + ".part", path)
        self.studio.emit(
            "state",
            reason=reason,
            path=path,
            epoch=self.epoch,
            batch=self.batch,
            partial={"lossSum": partial[0], "correct": int(partial[1]), "seen": int(partial[2])},
            optimizerStep=self.steps,
            secondsPerSample=self.seconds_per_sample,
            firstLoss=self.first_loss,
        )


class RunDiverged(Exception):
    pass


def hello(studio):
    """What this torch offers, before the studio's data is ready (the studio checks the device asked for)."""
    if not studio.speaks:
        return  # asking about GPUs before choosing one is left to each node's first process
    cuda = torch.cuda.is_available()
    studio.emit(
        "hello",
        torch=torch.__version__,
        cuda=cuda,
        gpus=[torch.cuda.get_device_name(i) for i in range(torch.cuda.device_count())] if cuda else [],
        cudaVersion=torch.version.cuda,
        threads=torch.get_num_threads(),
        distributed=dist.is_available(),
    )


def await_config(path, studio):
    """The run's settings, once the studio has written them (atomically); None when the studio went away."""
    while not os.path.exists(path):
        if studio.studio_gone:
            return None
        time.sleep(0.05)
    with open(path, encoding="utf-8") as f:
        return json.load(f)


def main():
    if len(sys.argv) != 2:
        sys.exit("usage: engine.py CONFIG.json (the studio starts this and writes the config)")
    rank = int(os.environ.get("RANK", "0"))
    studio = Studio(speaks=int(os.environ.get("LOCAL_RANK", "0")) == 0)
    hello(studio)
    config = await_config(sys.argv[1], studio)
    if config is None:
        # Non-zero, so that torchrun ends this node's other processes (waiting for the same file) too.
        sys.exit(3)
    engine = None
    try:
        engine = Engine(config, studio)
        engine.fit()
    except RunDiverged as diverged:
        studio.fail(f"{diverged}: training diverged", rank, kind="diverged")
        sys.exit(1)
    except Exception as error:  # noqa: BLE001 (every failure becomes a message the studio shows)
        message, kind = explain(error, engine.placement if engine else None)
        studio.fail(message, rank, kind)
        traceback.print_exc()
        sys.exit(1)
    if engine.placement.distributed:
        dist.destroy_process_group()


if __name__ == "__main__":
    main()
