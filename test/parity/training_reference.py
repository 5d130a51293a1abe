"""PyTorch reference for the training engine's optimizers, schedules and losses.

Reads a JSON case description on stdin and prints the PyTorch results as JSON:
parameters after each optimizer step, learning rates per epoch, loss values.
"""
import json
import sys

import torch

case = json.load(sys.stdin)
out = {"optimizers": [], "schedules": {}, "losses": {}}

for opt_case in case["optimizers"]:
    params = [torch.tensor(p["data"], dtype=torch.float32).reshape(p["shape"]).requires_grad_() for p in case["params"]]
    kind, kwargs = opt_case["name"], opt_case["kwargs"]
    cls = {"sgd": torch.optim.SGD, "adam": torch.optim.Adam, "adamw": torch.optim.AdamW}[kind]
    opt = cls(params, **kwargs)
    for step_grads in case["grads"]:
        for p, g in zip(params, step_grads):
            p.grad = torch.tensor(g, dtype=torch.float32).reshape(p.shape)
        opt.step()
    out["optimizers"].append([p.detach().reshape(-1).tolist() for p in params])

for name, sched_case in case["schedules"].items():
    epochs = sched_case["epochs"]
    p = torch.nn.Parameter(torch.zeros(1))
    opt = torch.optim.SGD([p], lr=case["baseLr"])
    if sched_case["schedule"] == "step":
        step_size = sched_case.get("stepSize") or -(-epochs // 3)
        sched = torch.optim.lr_scheduler.StepLR(opt, step_size=step_size, gamma=sched_case["gamma"])
    else:
        sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=epochs, eta_min=sched_case["etaMin"])
    lrs = []
    for _ in range(epochs):
        lrs.append(opt.param_groups[0]["lr"])
        opt.step()
        sched.step()
    out["schedules"][name] = lrs

logits = torch.tensor(case["logits"], dtype=torch.float32)
labels = torch.tensor(case["labels"], dtype=torch.int64)
out["losses"]["crossEntropy"] = torch.nn.functional.cross_entropy(logits, labels).item()
pred = torch.tensor(case["pred"], dtype=torch.float32)
target = torch.tensor(case["target"], dtype=torch.float32)
out["losses"]["mseMean"] = torch.nn.functional.mse_loss(pred, target).item()
out["losses"]["mseSum"] = torch.nn.functional.mse_loss(pred, target, reduction="sum").item()

json.dump(out, sys.stdout)
