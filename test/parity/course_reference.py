"""PyTorch reference for ConvNet Studio's blocks and presets.

Reads a JSON request on stdin:
  {"presets": [{"name": "lenet", "input": [1, 1, 28, 28]}, ...],
   "blocks": [{"type": "Residual", "params": {...}, "input": [4, 3, 6, 6]}, ...]}
and prints, for each, as built from the course's definitions (course_models.py):
  params   trainable parameters, as sum(p.numel() for p in model.parameters())
  summary  [class name, output shape] of each top-level module (the course's layer_summary)
  output   the output shape
  weights  {state-dict name: shape} of every leaf module with weights, in execution order
"""
import json
import os
import sys

import warnings

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import course_models  # noqa: E402


def describe(model, input_shape):
    course_models.materialise(model, input_shape)
    summary = []
    x = torch.zeros(input_shape)
    with torch.no_grad():
        if isinstance(model, torch.nn.Sequential):
            for layer in model:
                x = layer(x)
                summary.append([layer.__class__.__name__, list(x.shape)])
        else:
            x = model(x)
    leaves = course_models.weighted_leaves_in_execution_order(model, input_shape)
    return {
        'params': sum(p.numel() for p in model.parameters()),
        'summary': summary,
        'output': list(x.shape),
        'weights': [
            {name: list(t.shape) for name, t in leaf.state_dict().items() if name != 'num_batches_tracked'}
            for leaf in leaves
        ],
    }


warnings.filterwarnings('ignore', message='Lazy modules')
request = json.load(sys.stdin)
torch.manual_seed(0)
result = {
    'presets': {p['name']: describe(course_models.PRESETS[p['name']](), p['input'])
                for p in request.get('presets', [])},
    'blocks': [describe(course_models.BLOCKS[b['type']](b['params']), b['input'])
               for b in request.get('blocks', [])],
}
json.dump(result, sys.stdout)
