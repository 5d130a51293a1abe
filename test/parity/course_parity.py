"""Runs the course's networks and blocks (course_models.py) in PyTorch with
ConvNet Studio's weights, for the block and preset parity tests.

Reads {"cases": [case, ...]} on stdin, where a case is
  {"name", "model": {"preset": name} | {"block": type, "params": {...}},
   "file": a safetensors file holding the studio's weights by state-dict key
           and the input "x" (N×C×H×W),
   "modules": [[state-dict prefix, [weight names]], ...] for every studio
              primitive with weights, in execution order,
   "training": bool}
and writes {"results": {name: {"output": {"shape", "data"}} | {"error"}}}.

The studio names modules its own way (conv1 … or b2.0.conv1); the course's
modules are matched to them by the order forward runs them, and every weight
is checked for shape, so a wiring difference cannot pass unnoticed.
"""
import json
import os
import struct
import sys
import warnings

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import course_models  # noqa: E402

warnings.filterwarnings('ignore', message='Lazy modules')


def load_safetensors(path):
    with open(path, 'rb') as f:
        data = f.read()
    (length,) = struct.unpack('<Q', data[:8])
    header = json.loads(data[8:8 + length])
    base = 8 + length
    tensors = {}
    for name, entry in header.items():
        if name == '__metadata__':
            continue
        if entry['dtype'] != 'F32':
            raise ValueError(f'{name}: only F32 tensors are expected, got {entry["dtype"]}')
        start, end = entry['data_offsets']
        tensors[name] = torch.frombuffer(bytearray(data[base + start:base + end]),
                                         dtype=torch.float32).reshape(entry['shape'])
    return tensors


def build(spec):
    if 'preset' in spec:
        return course_models.PRESETS[spec['preset']]()
    return course_models.BLOCKS[spec['block']](spec['params'])


def run_case(case):
    tensors = load_safetensors(case['file'])
    x = tensors['x']
    model = build(case['model'])
    course_models.materialise(model, list(x.shape))
    leaves = course_models.weighted_leaves_in_execution_order(model, list(x.shape))
    if len(leaves) != len(case['modules']):
        raise ValueError(f'the course model has {len(leaves)} modules with weights, the studio '
                         f'{len(case["modules"])}')
    with torch.no_grad():
        for leaf, (prefix, names) in zip(leaves, case['modules']):
            state = {k: v for k, v in leaf.state_dict().items() if k != 'num_batches_tracked'}
            if sorted(state) != sorted(names):
                raise ValueError(f'{prefix}: the course module {leaf.__class__.__name__} has '
                                 f'{sorted(state)}, the studio {sorted(names)}')
            for name, current in state.items():
                value = tensors[f'{prefix}.{name}']
                if list(value.shape) != list(current.shape):
                    raise ValueError(f'{prefix}.{name}: studio shape {list(value.shape)}, '
                                     f'course shape {list(current.shape)}')
                current.copy_(value)
    model.train(case['training'])
    with torch.no_grad():
        y = model(x)
    return {'output': {'shape': list(y.shape), 'data': y.reshape(-1).tolist()}}


def main():
    request = json.load(sys.stdin)
    results = {}
    for case in request['cases']:
        try:
            results[case['name']] = run_case(case)
        except Exception as err:  # reported per case, so one failure does not hide the rest
            results[case['name']] = {'error': f'{type(err).__name__}: {err}'}
    json.dump({'results': results}, sys.stdout)


if __name__ == '__main__':
    main()
