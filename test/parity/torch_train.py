"""PyTorch side of the training comparisons (docs/training.md, `bench --pytorch`).

  torch_train.py train --model lenet --epochs 10 --lr 0.1 --batch-size 128 [--threads T]
      trains a course network on the real Fashion-MNIST as d2l does (init_cnn's
      Xavier-uniform init, SGD, mean cross-entropy, inputs in [0, 1], test split
      as validation) and prints one JSON line per epoch.
  torch_train.py bench --models lenet,resnet18 --batches N [--threads T] [--device cpu|cuda|auto]
      times training steps on fixed random batches (LeNet 128×1×28×28, ResNet-18
      32×1×96×96 by default) and prints {"model", "samplesPerSec", ...} per model.
"""
import argparse
import gzip
import json
import os
import re
import sys
import time

import numpy as np
import torch
from torch import nn

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from course_models import PRESETS, materialise  # noqa: E402

FASHION_MNIST = '/usr/share/datasets/fashion-mnist'
INPUTS = {'lenet': (1, 28, 28), 'resnet18': (1, 96, 96)}


def read_idx(path):
    with gzip.open(path, 'rb') as f:
        data = f.read()
    dims = data[3]
    shape = [int.from_bytes(data[4 + 4 * i:8 + 4 * i], 'big') for i in range(dims)]
    return np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * dims).reshape(shape)


def load_split(prefix, limit=None):
    images = read_idx(f'{FASHION_MNIST}/{prefix}-images-idx3-ubyte.gz')
    labels = read_idx(f'{FASHION_MNIST}/{prefix}-labels-idx1-ubyte.gz')
    if limit:
        images, labels = images[:limit], labels[:limit]
    x = torch.tensor(images, dtype=torch.float32).unsqueeze(1) / 255.0
    return x, torch.tensor(labels, dtype=torch.int64)


def build(name, input_chw):
    model = materialise(PRESETS[name](), (1, *input_chw))

    def init_cnn(module):  # d2l's init_cnn
        if type(module) in (nn.Linear, nn.Conv2d):
            nn.init.xavier_uniform_(module.weight)

    model.apply(init_cnn)
    return model


def train(args):
    torch.manual_seed(args.seed)
    x_train, y_train = load_split('train', args.limit_train)
    x_val, y_val = load_split('t10k')
    model = build(args.model, INPUTS[args.model])
    optimizer = torch.optim.SGD(model.parameters(), lr=args.lr)
    loss_fn = nn.CrossEntropyLoss()
    for epoch in range(args.epochs):
        start = time.perf_counter()
        model.train()
        order = torch.randperm(len(x_train))
        total, correct, seen = 0.0, 0, 0
        for i in range(0, len(order), args.batch_size):
            rows = order[i:i + args.batch_size]
            logits = model(x_train[rows])
            loss = loss_fn(logits, y_train[rows])
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            total += loss.item() * len(rows)
            correct += (logits.argmax(1) == y_train[rows]).sum().item()
            seen += len(rows)
        model.eval()
        with torch.no_grad():
            logits = torch.cat([model(x_val[i:i + 1000]) for i in range(0, len(x_val), 1000)])
            val_loss = loss_fn(logits, y_val).item()
            val_acc = (logits.argmax(1) == y_val).float().mean().item()
        print(json.dumps({'epoch': epoch + 1, 'trainLoss': total / seen, 'trainAcc': correct / seen,
                          'valLoss': val_loss, 'valAcc': val_acc,
                          'seconds': time.perf_counter() - start}), flush=True)


def libraries(device):
    """What this PyTorch computes with (torch.__config__): a reader of a ratio needs to know."""
    def find(pattern, text):
        match = re.search(pattern, text)
        return match.group(1) if match else 'unknown'
    config = torch.__config__.show()
    if device == 'cuda':
        return {'matmul': 'cuBLAS', 'convolutions': f'cuDNN {torch.backends.cudnn.version()}',
                'cpuCapability': find(r'CPU capability usage: (\S+)', config), 'parallel': 'CUDA'}
    onednn = find(r'(?:MKL-DNN|oneDNN) v([\d.]+)', config)
    return {'matmul': find(r'BLAS_INFO=([^,\s]+)', config),
            'convolutions': f'oneDNN {onednn}' if torch.backends.mkldnn.is_available()
            else 'ATen (im2col and BLAS)',
            'cpuCapability': find(r'CPU capability usage: (\S+)', config),
            'parallel': find(r'ATen parallel backend: (\S+)', torch.__config__.parallel_info())}


def bench(args):
    torch.manual_seed(0)
    if args.device == 'auto':
        args.device = 'cuda' if torch.cuda.is_available() else 'cpu'
    used = libraries(args.device)
    for name in args.models.split(','):
        batch = args.lenet_batch if name == 'lenet' else args.resnet_batch
        model = build(name, INPUTS[name]).to(args.device)
        model.train()
        optimizer = torch.optim.SGD(model.parameters(), lr=0.01)
        x = torch.rand(batch, *INPUTS[name], device=args.device)
        y = torch.randint(0, 10, (batch,), device=args.device)

        def step():
            loss = nn.functional.cross_entropy(model(x), y)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            return loss.item()  # read back, as the studio's bench does every step

        step()  # warm-up, as the studio's bench does
        start = time.perf_counter()
        for _ in range(args.batches):
            step()
        seconds = time.perf_counter() - start
        print(json.dumps({'model': name, 'batchSize': batch, 'batches': args.batches,
                          'seconds': seconds, 'samplesPerSec': batch * args.batches / seconds,
                          'threads': torch.get_num_threads(), 'torch': torch.__version__,
                          'device': torch.cuda.get_device_name() if args.device == 'cuda' else 'cpu',
                          'libraries': used}),
              flush=True)


parser = argparse.ArgumentParser()
sub = parser.add_subparsers(dest='mode', required=True)
t = sub.add_parser('train')
t.add_argument('--model', default='lenet')
t.add_argument('--epochs', type=int, default=10)
t.add_argument('--lr', type=float, default=0.1)
t.add_argument('--batch-size', type=int, default=128)
t.add_argument('--limit-train', type=int)
t.add_argument('--seed', type=int, default=0)
t.add_argument('--threads', type=int, default=1)
b = sub.add_parser('bench')
b.add_argument('--models', default='lenet,resnet18')
b.add_argument('--batches', type=int, default=20)
b.add_argument('--lenet-batch', type=int, default=128)
b.add_argument('--resnet-batch', type=int, default=32)
b.add_argument('--threads', type=int, default=1)
b.add_argument('--device', default='cpu', choices=['cpu', 'cuda', 'auto'],
               help='auto: cuda when PyTorch sees a GPU, else cpu')
args = parser.parse_args()
torch.set_num_threads(args.threads)
(train if args.mode == 'train' else bench)(args)
