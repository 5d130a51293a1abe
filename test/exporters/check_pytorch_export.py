"""Loads PyTorch exports in real PyTorch and compares their output with the studio's.

Usage: check_pytorch_export.py DIR...   (each DIR: an export plus check.safetensors with x and expected)
Prints one JSON object per export: {"dir", "relative_error", "state_dict_matches", "model_repr_head"}.
"""
import importlib.util
import json
import sys

import torch


def load_module(name, path):
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def main():
    torch.set_grad_enabled(False)
    for index, folder in enumerate(sys.argv[1:]):
        sys.path.insert(0, folder)
        sys.modules.pop("weights_io", None)
        model_module = load_module(f"exported_model_{index}", f"{folder}/model.py")
        weights_io = sys.modules["weights_io"]
        model = model_module.load_model()
        check = weights_io.load_safetensors(f"{folder}/check.safetensors")
        out = model(check["x"])
        expected = check["expected"]
        error = ((out - expected).abs().max() / expected.abs().max().clamp_min(1e-12)).item()
        exported = set(weights_io.load_safetensors(f"{folder}/weights.safetensors"))
        state = {k for k in model.state_dict() if not k.endswith("num_batches_tracked")}
        print(json.dumps({
            "dir": folder,
            "relative_error": error,
            "output_shape": list(out.shape),
            "state_dict_matches": state == exported,
            "only_in_model": sorted(state - exported)[:5],
            "only_in_file": sorted(exported - state)[:5],
        }), flush=True)
        sys.path.remove(folder)


if __name__ == "__main__":
    main()
