/** The fixed Python files of the PyTorch export (model.py is generated in export.ts). */
import type { ExportInput } from '../common';
import { markdownText } from '../text-escapes';

export const pythonWeightsIo = `"""safetensors reading and writing: the safetensors library when installed, else this small reader/writer.

Format: 8-byte little-endian header length, a JSON header {name: {dtype, shape, data_offsets}}, then raw data.
"""
import json
import struct

import torch

try:
    from safetensors.torch import load_file as _load_file, save_file as _save_file
except ImportError:
    _load_file = _save_file = None

_DTYPES = {"F32": torch.float32, "F64": torch.float64, "F16": torch.float16, "I64": torch.int64}


def load_safetensors(path):
    """A state dict (name -> tensor) from a .safetensors file."""
    if _load_file is not None:
        return _load_file(str(path))
    with open(path, "rb") as f:
        data = f.read()
    (length,) = struct.unpack("<Q", data[:8])
    header = json.loads(data[8 : 8 + length])
    start = 8 + length
    tensors = {}
    for name, entry in header.items():
        if name == "__metadata__":
            continue
        begin, end = entry["data_offsets"]
        dtype = _DTYPES[entry["dtype"]]
        buffer = bytearray(data[start + begin : start + end])
        tensors[name] = torch.frombuffer(buffer, dtype=dtype).reshape(entry["shape"]) if buffer else torch.empty(entry["shape"], dtype=dtype)
    return tensors


def save_safetensors(tensors, path):
    """Writes float tensors (a state dict) as .safetensors; integer counters are skipped."""
    tensors = {k: v.detach().to("cpu", torch.float32).contiguous() for k, v in tensors.items() if v.is_floating_point()}
    if _save_file is not None:
        _save_file(tensors, str(path))
        return
    header, offset, chunks = {}, 0, []
    for name, tensor in tensors.items():
        raw = tensor.numpy().astype("<f4").tobytes()
        header[name] = {"dtype": "F32", "shape": list(tensor.shape), "data_offsets": [offset, offset + len(raw)]}
        offset += len(raw)
        chunks.append(raw)
    text = json.dumps(header)
    text += " " * ((8 - (8 + len(text)) % 8) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)))
        f.write(text.encode())
        for raw in chunks:
            f.write(raw)
`;

interface TrainDefaults {
  epochs: number;
  batchSize: number;
  lr: number;
  optimizer: string;
  momentum: number;
  weightDecay: number;
  schedule: string;
  /** StepLR's step size; undefined: a third of the run. */
  stepSize?: number;
  gamma: number;
  etaMin: number;
  cropPadding: number;
  flip: boolean;
}

/**
 * train.py: a plain PyTorch training script, and the training step the
 * studio's PyTorch engine runs (it imports place, wrap, make_optimizer,
 * make_schedule, epoch_batches, augment, train_steps and evaluate from it).
 */
export function pythonTrainScript(d: TrainDefaults): string {
  return `"""Trains the exported network on Fashion-MNIST.

Alone:        python3 train.py --epochs 10
Several GPUs: torchrun --nproc_per_node=4 train.py      (DistributedDataParallel, nccl)
CPU workers:  torchrun --nproc_per_node=2 train.py      (gloo)
(or python3 -m torch.distributed.run --nproc_per_node=2 train.py; with Debian's PyTorch 1.13 on
Python 3.11 add --redirects 1 --tee 1: its launcher crashes on the default output settings)

Data: the IDX files in --data-dir (gzipped or not), else torchvision's download into it.
Starts from weights.safetensors unless --from-scratch; saves the result to --out.
ConvNet Studio's PyTorch engine trains with this file's functions too (place, train_steps, ...).
"""
import argparse
import gzip
import math
import os
import struct
import time
from dataclasses import dataclass
from pathlib import Path

import torch
import torch.distributed as dist
import torch.nn.functional as F
from torch.utils.data.distributed import DistributedSampler

from model import INPUT_SHAPE, WEIGHTS, build_model, load_model
from weights_io import save_safetensors

FILES = {
    "train": ("train-images-idx3-ubyte", "train-labels-idx1-ubyte"),
    "val": ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"),
}
DEFAULT_DATA_DIRS = ["data", "/usr/share/datasets/fashion-mnist"]


def parse_args():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--data-dir", help="folder with the Fashion-MNIST IDX files (default: ./data, then /usr/share/datasets/fashion-mnist)")
    p.add_argument("--epochs", type=int, default=${d.epochs})
    p.add_argument("--batch-size", type=int, default=${d.batchSize}, help="per process")
    p.add_argument("--lr", type=float, default=${d.lr})
    p.add_argument("--optimizer", choices=["sgd", "adam", "adamw"], default="${d.optimizer}")
    p.add_argument("--momentum", type=float, default=${d.momentum}, help="SGD only")
    p.add_argument("--weight-decay", type=float, default=${d.weightDecay})
    p.add_argument("--schedule", choices=["constant", "step", "cosine"], default="${d.schedule}", help="stepped once per epoch")
    p.add_argument("--step-size", type=int, default=${d.stepSize ?? 'None'}, help="step schedule: epochs between drops (StepLR step_size; default: a third of the run)")
    p.add_argument("--gamma", type=float, default=${d.gamma}, help="step schedule: what each drop multiplies the learning rate by")
    p.add_argument("--eta-min", type=float, default=${d.etaMin}, help="cosine schedule: the learning rate it ends at")
    p.add_argument("--crop-padding", type=int, default=${d.cropPadding}, help="training images: RandomCrop(size, padding=N); 0: off")
    p.add_argument("--flip", action=argparse.BooleanOptionalAction, default=${d.flip ? 'True' : 'False'}, help="training images: RandomHorizontalFlip()")
    p.add_argument("--limit-train", type=int, help="use only the first N training images")
    p.add_argument("--limit-val", type=int, help="use only the first N test images")
    p.add_argument("--from-scratch", action="store_true", help="PyTorch's default initialisation instead of weights.safetensors")
    p.add_argument("--out", default="trained.safetensors", help="where to save the trained weights")
    p.add_argument("--seed", type=int, default=0)
    return p.parse_args()


def read_idx(path):
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rb") as f:
        data = f.read()
    magic, count = struct.unpack(">II", data[:8])
    if magic == 2049:
        return torch.frombuffer(bytearray(data[8:]), dtype=torch.uint8).long()
    if magic != 2051:
        raise ValueError(f"{path} is not an IDX image or label file (magic {magic})")
    rows, cols = struct.unpack(">II", data[8:16])
    return torch.frombuffer(bytearray(data[16:]), dtype=torch.uint8).reshape(count, 1, rows, cols)


def find_file(folder, stem):
    for name in (stem + ".gz", stem):
        if (folder / name).exists():
            return folder / name
    return None


def load_split(split, data_dir, limit):
    """uint8 images N x 1 x 28 x 28 and int64 labels of one split."""
    folders = [Path(data_dir)] if data_dir else [Path(d) for d in DEFAULT_DATA_DIRS]
    for folder in folders:
        images, labels = (find_file(folder, stem) for stem in FILES[split])
        if images and labels:
            x, y = read_idx(images), read_idx(labels)
            break
    else:
        try:
            import torchvision
        except ImportError:
            raise SystemExit(
                f"Fashion-MNIST not found in {', '.join(map(str, folders))}: put the IDX files "
                "(train-images-idx3-ubyte.gz, ...) there, pass --data-dir, or install torchvision to download them"
            )
        ds = torchvision.datasets.FashionMNIST(str(folders[0]), train=split == "train", download=True)
        x, y = ds.data.unsqueeze(1), ds.targets
    if limit:
        x, y = x[:limit], y[:limit]
    return x, y


def prepare(images, device):
    """uint8 N x 1 x 28 x 28 -> float in [0, 1] at the model's input size, as the studio feeds it."""
    x = images.to(device).float() / 255
    channels, height, width = INPUT_SHAPE
    if x.shape[-2:] != (height, width):
        x = F.interpolate(x, size=(height, width), mode="bilinear", align_corners=False)
    if channels != x.shape[1]:
        x = x.expand(-1, channels, -1, -1)
    return x


@dataclass
class Placement:
    """Where this process trains: alone (world 1), or as one of torchrun's processes."""

    distributed: bool
    world: int
    rank: int
    local_rank: int
    device: torch.device


def place(device="auto"):
    """The device (device: auto, cpu or cuda) and, under torchrun, the process group (nccl on GPUs, gloo on CPU)."""
    # torchrun sets WORLD_SIZE: then every process joins the group (even alone, so one GPU runs the DDP path).
    distributed = "WORLD_SIZE" in os.environ
    local_rank = int(os.environ.get("LOCAL_RANK", "0"))
    cuda = torch.cuda.is_available() if device == "auto" else device == "cuda"
    where = torch.device(f"cuda:{local_rank}" if cuda else "cpu")
    if cuda:
        torch.cuda.set_device(where)
    if distributed:
        dist.init_process_group(backend="nccl" if cuda else "gloo")
    return Placement(distributed, int(os.environ.get("WORLD_SIZE", "1")), int(os.environ.get("RANK", "0")), local_rank, where)


def wrap(model, placement):
    """The module to train: the model itself, or under torchrun its DistributedDataParallel."""
    if not placement.distributed:
        return model
    cuda = placement.device.type == "cuda"
    return torch.nn.parallel.DistributedDataParallel(model, device_ids=[placement.local_rank] if cuda else None)


def make_optimizer(parameters, name, lr, momentum=0.0, weight_decay=0.0):
    if name == "sgd":
        return torch.optim.SGD(parameters, lr=lr, momentum=momentum, weight_decay=weight_decay)
    if name == "adam":
        return torch.optim.Adam(parameters, lr=lr, weight_decay=weight_decay)
    # AdamW's own default decay (0.01) is not applied unless asked for.
    return torch.optim.AdamW(parameters, lr=lr, weight_decay=weight_decay)


def make_schedule(optimizer, name, epochs, step_size=None, gamma=0.1, eta_min=0.0):
    """Stepped once per epoch: StepLR (x gamma every step_size epochs, by default a third of the run), CosineAnnealingLR, or none."""
    if name == "step":
        return torch.optim.lr_scheduler.StepLR(optimizer, step_size=step_size or max(1, math.ceil(epochs / 3)), gamma=gamma)
    if name == "cosine":
        return torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=epochs, eta_min=eta_min)
    return None


def augment(images, padding, flip, generator=None):
    """Training images as torchvision's RandomCrop(size, padding) and RandomHorizontalFlip() make them, at their
    stored size (before any resize): each cut at a random place from itself padded with zeros, then mirrored with
    probability 0.5."""
    if padding == 0 and not flip:
        return images
    n = len(images)
    tops = torch.randint(0, 2 * padding + 1, (n,), generator=generator)
    lefts = torch.randint(0, 2 * padding + 1, (n,), generator=generator)
    flips = torch.rand(n, generator=generator) < 0.5 if flip else torch.zeros(n, dtype=torch.bool)
    return place_images(images, padding, tops, lefts, flips)


def place_images(images, padding, tops, lefts, flips):
    """hflip(crop(pad(image, padding), top, left, H, W)) for each N x C x H x W image, flipped where flips says."""
    n, _, height, width = images.shape
    padded = F.pad(images, (padding, padding, padding, padding))
    rows = tops[:, None] + torch.arange(height)
    columns = torch.arange(width).expand(n, width)
    columns = torch.where(flips[:, None], columns.flip(1), columns) + lefts[:, None]
    picked = padded[torch.arange(n)[:, None, None], :, rows[:, :, None], columns[:, None, :]]
    return picked.permute(0, 3, 1, 2).contiguous()


def epoch_batches(count, batch_size, seed, epoch, placement):
    """This process's batches of one epoch (index tensors): a new shuffle every epoch, shared out as DistributedSampler does."""
    sampler = DistributedSampler(range(count), num_replicas=placement.world, rank=placement.rank, shuffle=True, seed=seed)
    sampler.set_epoch(epoch)
    return list(torch.tensor(list(sampler), dtype=torch.long).split(batch_size))


class Diverged(ArithmeticError):
    """The loss is no longer a finite number: the step is not applied."""


def train_steps(net, optimizer, images, labels, batches, device, prepare):
    """One optimisation step (mean cross-entropy) per batch; yields each step's loss, correct count and size."""
    net.train()
    for rows in batches:
        x = prepare(images[rows], device)
        y = labels[rows].to(device)
        logits = net(x)
        loss = F.cross_entropy(logits, y)
        optimizer.zero_grad()
        loss.backward()
        value, correct = torch.stack([loss.detach(), (logits.argmax(1) == y).sum().float()]).tolist()
        if not math.isfinite(value):
            raise Diverged(f"the loss became {'NaN' if math.isnan(value) else ('Infinity' if value > 0 else '-Infinity')}")
        optimizer.step()
        yield value, int(correct), len(rows)


def evaluate(model, images, labels, device, prepare, batch_size=256):
    """Mean cross-entropy and accuracy over a whole split, in eval mode."""
    model.eval()
    loss = correct = 0.0
    with torch.no_grad():
        for start in range(0, len(labels), batch_size):
            y = labels[start : start + batch_size].to(device)
            logits = model(prepare(images[start : start + batch_size], device))
            loss += F.cross_entropy(logits, y, reduction="sum").item()
            correct += (logits.argmax(1) == y).sum().item()
    return loss / max(len(labels), 1), correct / max(len(labels), 1)


def all_sum(values, placement):
    """Sums numbers over the processes (itself when alone)."""
    if not placement.distributed:
        return list(values)
    totals = torch.tensor(values, dtype=torch.float64, device=placement.device)
    dist.all_reduce(totals)
    return totals.tolist()


def main():
    args = parse_args()
    placement = place()
    torch.manual_seed(args.seed)
    model = (build_model() if args.from_scratch else load_model(WEIGHTS)).to(placement.device)
    net = wrap(model, placement)
    train_x, train_y = load_split("train", args.data_dir, args.limit_train)
    val_x, val_y = load_split("val", args.data_dir, args.limit_val)
    optimizer = make_optimizer(net.parameters(), args.optimizer, args.lr, args.momentum, args.weight_decay)
    schedule = make_schedule(optimizer, args.schedule, args.epochs, args.step_size, args.gamma, args.eta_min)

    def feed(images, device):
        return prepare(augment(images, args.crop_padding, args.flip), device)

    if placement.rank == 0:
        backend = dist.get_backend() if placement.distributed else "none"
        print(f"training on {len(train_y)} images, {placement.world} process(es), device {placement.device}, backend {backend}", flush=True)
    for epoch in range(args.epochs):
        started = time.time()
        batches = epoch_batches(len(train_y), args.batch_size, args.seed, epoch, placement)
        loss_sum = correct = count = 0
        for loss, right, size in train_steps(net, optimizer, train_x, train_y, batches, placement.device, feed):
            loss_sum, correct, count = loss_sum + loss * size, correct + right, count + size
        elapsed = time.time() - started
        loss_sum, correct, count = all_sum([loss_sum, correct, count], placement)
        if placement.rank == 0:
            val_loss, val_acc = evaluate(model, val_x, val_y, placement.device, prepare)
            print(
                f"epoch {epoch + 1}: {count:.0f} samples, train loss {loss_sum / count:.4f}, train acc {correct / count:.3f}, "
                f"val loss {val_loss:.4f}, val acc {val_acc:.3f}, {count / elapsed:.0f} samples/s",
                flush=True,
            )
        if schedule is not None:
            schedule.step()
        if placement.distributed:
            dist.barrier(device_ids=[placement.local_rank] if placement.device.type == "cuda" else None)
    if placement.rank == 0:
        save_safetensors(model.state_dict(), args.out)
        print(f"saved {args.out}", flush=True)
    if placement.distributed:
        dist.destroy_process_group()


if __name__ == "__main__":
    main()
`;
}

export function pythonReadme({ project, inference }: ExportInput): string {
  const [, c, h, w] = inference.inputShape!;
  return `# ${markdownText(project.name)} (PyTorch)

Exported by ConvNet Studio.

| file | what |
| --- | --- |
| \`model.py\` | \`build_model()\` (the network, as \`nn.Sequential\` and block classes) and \`load_model()\` |
| \`weights.safetensors\` | the weights, keyed by \`state_dict\` name (the studio's node ids) |
| \`weights_io.py\` | reads/writes safetensors (the \`safetensors\` library when installed, else its own few lines) |
| \`train.py\` | trains on Fashion-MNIST, alone or under \`torchrun\` (DistributedDataParallel) |

Input: N×${c}×${h}×${w} (NCHW), pixels in [0, 1]; output: N×${inference.outputShape!.slice(1).join('×')}${inference.outputShape!.length === 2 ? ' logits' : ''}.

\`\`\`python
import torch
from model import load_model
model = load_model()                     # eval mode, exported weights
logits = model(torch.zeros(1, ${c}, ${h}, ${w}))
\`\`\`

Training (Fashion-MNIST's IDX files in ./data or /usr/share/datasets/fashion-mnist, or \`--data-dir\`):

\`\`\`sh
python3 train.py --epochs 10 --batch-size 128
torchrun --nproc_per_node=2 train.py --epochs 10          # DistributedDataParallel: gloo on CPU, nccl on GPUs
python3 -m torch.distributed.run --nproc_per_node=2 train.py --limit-train 1000 --epochs 1
\`\`\`

Options: \`--data-dir\`, \`--epochs\`, \`--batch-size\` (per process), \`--lr\`, \`--optimizer sgd|adam|adamw\`,
\`--momentum\`, \`--weight-decay\`, \`--schedule constant|step|cosine\`, \`--limit-train N\`, \`--limit-val N\`, \`--from-scratch\`, \`--out FILE\` (default trained.safetensors), \`--seed\`.
Load trained weights with \`load_model("trained.safetensors")\`; the studio imports them too.
`;
}
