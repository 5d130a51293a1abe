"""Writes ONNX models with real PyTorch's torch.onnx.export, for the ONNX import tests.

Usage: torch_onnx_models.py OUT_DIR [--torchvision]
Writes OUT_DIR/<name>.onnx for the course's networks (course_models.py, random
weights and BatchNorm statistics as after training) and for small networks
that exercise what exporters write besides plain layers (a flatten computed
from x.size(0), MatMul + Add, GELU's formula, a final Softmax or log_softmax,
ceil_mode pooling, means over H and W), plus networks with operators the
studio has no layer for; with --torchvision, torchvision's own networks
instead (ones the course does not have: MobileNetV2, SqueezeNet, ...). Prints
{"models": [{"name", "file", "input": [N, C, H, W], "opset"}]} as JSON.
"""
import json
import os
import sys
import warnings

import torch
from torch import nn
from torch.nn import functional as F

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'parity'))
import course_models  # noqa: E402

warnings.filterwarnings('ignore')


class ViewFlatten(nn.Module):
    """Flattens with x.view(x.size(0), -1): a Shape/Gather/Concat/Reshape chain in ONNX."""

    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(2, 4, 3, padding=1)
        self.fc = nn.Linear(4 * 6 * 6, 5)

    def forward(self, x):
        x = F.relu(self.conv(x))
        return self.fc(x.view(x.size(0), -1))


class MatMulHead(nn.Module):
    """A linear layer written as x @ W + b: MatMul then Add in ONNX."""

    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(1, 3, 3)
        self.weight = nn.Parameter(torch.randn(3 * 4 * 4, 6) * 0.2)
        self.bias = nn.Parameter(torch.randn(6) * 0.1)

    def forward(self, x):
        x = torch.flatten(torch.tanh(self.conv(x)), 1)
        return torch.matmul(x, self.weight) + self.bias


class MnistExample(nn.Module):
    """pytorch/examples' MNIST network: functional ReLU, pooling and dropout, a final log_softmax."""

    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 32, 3, 1)
        self.conv2 = nn.Conv2d(32, 64, 3, 1)
        self.dropout1 = nn.Dropout(0.25)
        self.dropout2 = nn.Dropout(0.5)
        self.fc1 = nn.Linear(9216, 128)
        self.fc2 = nn.Linear(128, 10)

    def forward(self, x):
        x = F.relu(self.conv1(x))
        x = F.max_pool2d(F.relu(self.conv2(x)), 2)
        x = torch.flatten(self.dropout1(x), 1)
        x = self.dropout2(F.relu(self.fc1(x)))
        return F.log_softmax(self.fc2(x), dim=1)


class MeanPool(nn.Module):
    """Global average pooling written as means over H and W (ReduceMean), with and without keepdim."""

    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 8, 3, padding=1)
        self.mix = nn.Conv2d(8, 8, 1)
        self.fc = nn.Linear(8, 4)

    def forward(self, x):
        x = F.relu(self.conv(x))
        x = self.mix(x.mean((2, 3), keepdim=True))
        return self.fc(x.mean((-2, -1)))


def gelus():
    return nn.Sequential(
        nn.Conv2d(3, 4, 3, padding=1), nn.GELU(), nn.Conv2d(4, 4, 3, padding=1),
        nn.GELU(approximate='tanh'), nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(4, 3))


def softmax_head():
    return nn.Sequential(
        nn.Conv2d(1, 4, 5), nn.ReLU(), nn.MaxPool2d(3, 2, ceil_mode=True), nn.Flatten(),
        nn.Linear(4 * 6 * 6, 10), nn.LeakyReLU(0.2), nn.Dropout(0.3), nn.Linear(10, 4),
        nn.Softmax(dim=1))


def mobilenet_like():
    """MobileNet's pieces: ReLU6 (Clip), an asymmetric ZeroPad2d (Pad), a depthwise convolution."""
    return nn.Sequential(
        nn.Conv2d(3, 8, 3, stride=2, padding=1), nn.BatchNorm2d(8), nn.ReLU6(),
        nn.ZeroPad2d((0, 1, 0, 1)), nn.Conv2d(8, 8, 3, stride=2, groups=8), nn.BatchNorm2d(8),
        nn.ReLU6(), nn.Conv2d(8, 16, 1), nn.ReLU6(), nn.Dropout2d(0.2), nn.AdaptiveAvgPool2d(1),
        nn.Flatten(), nn.Linear(16, 4))


def transposed():
    return nn.Sequential(nn.Conv2d(1, 2, 3), nn.ConvTranspose2d(2, 1, 3))


def upsampled():
    return nn.Sequential(nn.Conv2d(1, 2, 3), nn.Upsample(scale_factor=2), nn.Flatten())


# name: (builder, input N×C×H×W, opset)
MODELS = {
    'lenet': (course_models.lenet, [2, 1, 28, 28], 13),
    'lenet-opset9': (course_models.lenet, [2, 1, 28, 28], 9),
    # AlexNet at its smallest input (96: one 1×1 map before the classifier) keeps the file at 86 MB.
    'alexnet': (course_models.alexnet, [1, 1, 96, 96], 13),
    'vgg11-tiny': (course_models.PRESETS['vgg11-tiny'], [2, 1, 32, 32], 13),
    'nin': (course_models.nin, [2, 1, 96, 96], 11),
    'googlenet': (course_models.googlenet, [2, 1, 64, 64], 13),
    'resnet18': (course_models.PRESETS['resnet18'], [2, 1, 32, 32], 13),
    'resnext18': (course_models.PRESETS['resnext18'], [2, 1, 32, 32], 13),
    'densenet': (course_models.densenet, [2, 1, 32, 32], 13),
    'view-flatten': (ViewFlatten, [2, 2, 6, 6], 13),
    'matmul-head': (MatMulHead, [2, 1, 6, 6], 13),
    'gelus': (gelus, [2, 3, 8, 8], 13),
    'softmax-head': (softmax_head, [2, 1, 16, 16], 12),
    'mobilenet-like': (mobilenet_like, [2, 3, 16, 16], 13),
    'mnist-example': (MnistExample, [2, 1, 28, 28], 13),
    'mean-pool': (MeanPool, [2, 3, 8, 8], 13),
    'mean-pool-opset11': (MeanPool, [2, 3, 8, 8], 11),
    'mobilenet-like-opset10': (mobilenet_like, [2, 3, 16, 16], 10),
    'transposed': (transposed, [1, 1, 8, 8], 13),
    'upsampled': (upsampled, [1, 1, 8, 8], 13),
}


# torchvision's networks (random weights) at a small input: name → (builder, its arguments, input).
TORCHVISION = {
    'tv-mobilenet_v2': ('mobilenet_v2', {}, [2, 3, 64, 64]),
    'tv-squeezenet1_1': ('squeezenet1_1', {}, [2, 3, 64, 64]),
    'tv-densenet121': ('densenet121', {}, [2, 3, 64, 64]),
    'tv-googlenet': ('googlenet', {'aux_logits': False, 'init_weights': True}, [2, 3, 64, 64]),
    'tv-regnet_x_400mf': ('regnet_x_400mf', {}, [2, 3, 64, 64]),
    'tv-shufflenet_v2_x0_5': ('shufflenet_v2_x0_5', {}, [1, 3, 64, 64]),
    'tv-mobilenet_v3_small': ('mobilenet_v3_small', {}, [1, 3, 64, 64]),
}


def torchvision_models():
    import torchvision
    return {name: (lambda n=n, kw=kw: getattr(torchvision.models, n)(**kw), shape, 13)
            for name, (n, kw, shape) in TORCHVISION.items()}


def trained_looking(model):
    """BatchNorm statistics away from their initial 0 and 1, as after training."""
    for m in model.modules():
        if isinstance(m, (nn.BatchNorm1d, nn.BatchNorm2d)):
            m.running_mean.uniform_(-0.5, 0.5)
            m.running_var.uniform_(0.5, 1.5)
            m.weight.data.uniform_(0.5, 1.5)
            m.bias.data.uniform_(-0.5, 0.5)
    return model


def main():
    out = sys.argv[1]
    torch.manual_seed(0)
    written = []
    models = torchvision_models() if '--torchvision' in sys.argv[2:] else MODELS
    for name, (build, shape, opset) in models.items():
        model = course_models.materialise(build(), shape)
        trained_looking(model).eval()
        file = os.path.join(out, f'{name}.onnx')
        torch.onnx.export(model, torch.zeros(shape), file, opset_version=opset,
                          input_names=['input'], output_names=['output'],
                          dynamic_axes={'input': {0: 'N'}, 'output': {0: 'N'}})
        written.append({'name': name, 'file': file, 'input': shape, 'opset': opset})
    json.dump({'models': written}, sys.stdout)


if __name__ == '__main__':
    main()
