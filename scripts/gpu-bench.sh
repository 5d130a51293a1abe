#!/usr/bin/env bash
# Packs the command line for a GPU machine without Node (docs/benchmarks.md).
# On a GPU machine with Node, run `npx convnet-studio bench --backend webgpu --pytorch`
# there instead. GPU_PACK names a packer, called as `$GPU_PACK ENTRY`, that fills
# .gpu/ with a Node binary, Dawn (the webgpu package's dawn.node), the Vulkan
# loader, a Fashion-MNIST subset and a run.sh that unpacks them and runs
# `node .gpu/app.mjs "$@"`; this script then bundles the CLI with
# __dirname defined (tfjs-backend-wasm's loader needs it) and the
# training worker, which `train` starts from the file beside the bundle, and
# copies the threaded wasm build's JavaScript beside them.
# Packages with native parts travel as files beside the bundle (resvg draws
# curves.png); vite serves the studio, which is not needed there.
# Afterwards run on the GPU machine, from the repository root:
#   bash .gpu/run.sh bench --backend webgpu --pytorch
#   bash .gpu/run.sh train lenet --backend webgpu --epochs 3
set -euo pipefail
cd "$(git rev-parse --show-toplevel)"
gpu_pack=${GPU_PACK:?set GPU_PACK to the packer that fills .gpu/ with Node, Dawn, the Vulkan loader and data (see the comment at the top of this script)}
# The packer's bundler options stop at resvg's native file, so it is handed a module
# without imports to bundle; the CLI and the worker are bundled below, replacing its app.mjs.
"$gpu_pack" src/api/training-protocol.ts

banner="import{createRequire as __cr}from'module';import{fileURLToPath as __fu}from'url';import{dirname as __dn}from'path';const require=__cr(import.meta.url);const __filename=__fu(import.meta.url);const __dirname=__dn(__filename);"
for entry in src/cli/main.ts:app.mjs src/engine/worker.ts:worker.js; do
  npx --no-install esbuild "${entry%%:*}" --bundle --platform=node --format=esm --minify \
    --external:webgpu --external:electron --external:@tensorflow/tfjs-node --external:@tensorflow/tfjs-node-gpu \
    --external:@resvg/resvg-js --external:vite --banner:js="$banner" --outfile=".gpu/${entry##*:}" --log-level=warning
done
cp -r node_modules/@resvg .gpu/node_modules/
# The threaded wasm build's JavaScript (module and pthread script), which the bundle loads from beside itself.
cp node_modules/@tensorflow/tfjs-backend-wasm/wasm-out/tfjs-backend-wasm-threaded-simd.js \
  node_modules/@tensorflow/tfjs-backend-wasm/wasm-out/tfjs-backend-wasm-threaded-simd.worker.js .gpu/
du -sh .gpu
