"""Runs studio graphs in real PyTorch, for the parity tests.

Reads one JSON document on stdin: {"cases": [case, ...]}, where a case is
  {"name", "primitives": [{"id", "type", "params", "inputs", "inputShapes"}],
   "inputId", "outputId", "input": {"shape": [N,C,H,W], "data": [...]},
   "weights": {state_dict_key: {"shape", "data"}}, "training": bool,
   "labels": [int, ...] (optional: also return gradients of the mean
   cross-entropy of the output against these labels)}
and writes {"results": {name: {"output", "state", "grads"?} | {"error"}}} to
stdout, every tensor as {"shape", "data"} in PyTorch layout (NCHW).
All cases run in one process because starting Python with torch is slow.
"""
import json
import sys

import torch
import torch.nn.functional as F
from torch import nn


class Add(nn.Module):
    def forward(self, *xs):
        return sum(xs[1:], xs[0])


class Concat(nn.Module):
    def forward(self, *xs):
        return torch.cat(xs, dim=1)


def pair(v):
    return tuple(v)


def build(node):
    t, p = node["type"], node["params"]
    shapes = node["inputShapes"]
    if t == "Conv2d":
        padding = p["padding"] if isinstance(p["padding"], str) else pair(p["padding"])
        return nn.Conv2d(shapes[0][1], p["out_channels"], pair(p["kernel_size"]),
                         stride=pair(p["stride"]), padding=padding,
                         dilation=pair(p["dilation"]), groups=p["groups"], bias=p["bias"])
    if t in ("MaxPool2d", "AvgPool2d"):
        stride = None if p["stride"] is None else pair(p["stride"])
        cls = nn.MaxPool2d if t == "MaxPool2d" else nn.AvgPool2d
        return cls(pair(p["kernel_size"]), stride=stride, padding=pair(p["padding"]),
                   ceil_mode=p["ceil_mode"])
    if t == "AdaptiveAvgPool2d":
        return nn.AdaptiveAvgPool2d(pair(p["output_size"]))
    if t in ("BatchNorm1d", "BatchNorm2d"):
        cls = nn.BatchNorm1d if t == "BatchNorm1d" else nn.BatchNorm2d
        return cls(shapes[0][1], eps=p["eps"], momentum=p["momentum"])
    if t == "Linear":
        return nn.Linear(shapes[0][1], p["out_features"], bias=p["bias"])
    if t == "LeakyReLU":
        return nn.LeakyReLU(p["negative_slope"])
    if t == "GELU":
        return nn.GELU(approximate=p["approximate"])
    if t == "Softmax":
        return nn.Softmax(dim=1)
    if t == "Dropout":
        return nn.Dropout(p["p"])
    simple = {"ReLU": nn.ReLU, "Sigmoid": nn.Sigmoid, "Tanh": nn.Tanh, "Flatten": nn.Flatten,
              "Add": Add, "Concat": Concat}
    if t in simple:
        return simple[t]()
    raise ValueError(f"no PyTorch equivalent known for layer type {t}")


def tensor(t):
    return torch.tensor(t["data"], dtype=torch.float32).reshape(t["shape"])


def plain(t):
    return {"shape": list(t.shape), "data": t.detach().reshape(-1).tolist()}


def run_case(case):
    modules = {}
    for node in case["primitives"]:
        if node["id"] == case["inputId"]:
            continue
        module = build(node)
        prefix = node["id"].replace("/", ".") + "."
        own = {k[len(prefix):]: v for k, v in case["weights"].items() if k.startswith(prefix)}
        state = module.state_dict()
        for name, value in own.items():
            if name not in state:
                raise KeyError(f"{node['type']} has no weight {name}")
            state[name].copy_(tensor(value))
        module.train(case["training"])
        modules[node["id"]] = module
    values = {case["inputId"]: tensor(case["input"])}
    for node in case["primitives"]:
        if node["id"] in modules:
            values[node["id"]] = modules[node["id"]](*[values[i] for i in node["inputs"]])
    output = values[case["outputId"]]
    result = {"output": plain(output)}
    if "labels" in case:
        loss = F.cross_entropy(output, torch.tensor(case["labels"]))
        loss.backward()
        result["loss"] = loss.item()
        result["grads"] = {
            node_id.replace("/", ".") + "." + name: plain(p.grad)
            for node_id, m in modules.items() for name, p in m.named_parameters()
        }
    result["state"] = {
        node_id.replace("/", ".") + "." + name: plain(v)
        for node_id, m in modules.items() for name, v in m.state_dict().items()
        if not name.endswith("num_batches_tracked")
    }
    return result


def main():
    torch.manual_seed(0)
    cases = json.load(sys.stdin)["cases"]
    results = {}
    for case in cases:
        try:
            results[case["name"]] = run_case(case)
        except Exception as err:  # reported per case so one bad case does not hide the rest
            results[case["name"]] = {"error": f"{type(err).__name__}: {err}"}
    json.dump({"results": results}, sys.stdout)


if __name__ == "__main__":
    main()
