"""Runs studio graphs in real PyTorch, for the parity tests.

Reads one JSON document on stdin: {"cases": [case, ...]}, where a case is
  {"name", "primitives": [{"id", "type", "params", "inputs", "inputShapes", "module"}],
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


def build(node):
    """The node's module: the constructor call the studio's PyTorch export writes
    for it (model.py), or a merge module where forward writes the merge inline."""
    if node["module"] is not None:
        return eval(node["module"], {"nn": nn, "torch": torch})
    merges = {"Add": Add, "Concat": Concat}
    if node["type"] in merges:
        return merges[node["type"]]()
    raise ValueError(f"the PyTorch export writes no module for layer type {node['type']}")


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
