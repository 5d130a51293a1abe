/**
 * The PyTorch behaviours standard Keras layers cannot express exactly,
 * as tfjs-layers classes shipped beside every TF.js export (convnet-studio-layers.js):
 *
 * - TorchMaxPool2D: max pooling with explicit padding that never wins (PyTorch
 *   pads max pooling with −∞; ZeroPadding2D would let a 0 beat negative values).
 * - TorchAvgPool2D: average pooling with ceil_mode, whose last window may run
 *   past the padded input and then averages only what it covers.
 * - TorchConv2D: grouped convolution (ResNeXt), and stride together with
 *   dilation, which tfjs's Conv2D refuses.
 * - TorchGELU: GELU's tanh approximation. Keras calls it 'gelu_new', but
 *   tfjs-layers 4.22 cannot load that name back (it camel-cases it to 'geluNew').
 *
 * (Average pooling with count_include_pad needs no custom layer otherwise: the
 * padded zeros count in the average, so ZeroPadding2D + AveragePooling2D is exact.)
 *
 * The file is plain JavaScript that works as a browser <script> after the tfjs
 * bundle (it registers itself with the global `tf`) and as a CommonJS module
 * (`require('./convnet-studio-layers.js').registerConvnetStudioLayers(tf)`).
 * It is kept here as text so the exporter can write it from any host, bundled or not.
 */
export const CUSTOM_LAYERS_FILE = 'convnet-studio-layers.js';

export const CUSTOM_LAYERS_SOURCE = `/*
 * ConvNet Studio custom layers for TensorFlow.js (tfjs-layers 4.x).
 * Browser: <script src="tf.min.js"></script><script src="convnet-studio-layers.js"></script>
 * Node:    require('./convnet-studio-layers.js').registerConvnetStudioLayers(tf)
 *          (tf: @tensorflow/tfjs, or pass @tensorflow/tfjs-core and @tensorflow/tfjs-layers)
 */
(function (root) {
  'use strict';
  // The most negative float32: padding that never wins a max (−Infinity is not safe on every backend).
  var LOWEST = -3.4028234663852886e38;
  var registered = false;

  function registerConvnetStudioLayers(tfc, tfl) {
    tfl = tfl || tfc;
    if (registered) return;
    var Layer = tfl.layers.Layer;

    function padSpatial(x, padding, value) {
      var p = padding;
      if (p[0][0] === 0 && p[0][1] === 0 && p[1][0] === 0 && p[1][1] === 0) return x;
      return tfc.pad(x, [[0, 0], p[0], p[1], [0, 0]], value);
    }
    function outLength(size, kernel, stride, before, after, dilation) {
      if (size === null) return null;
      return Math.floor((size + before + after - dilation * (kernel - 1) - 1) / stride) + 1;
    }

    /** PyTorch MaxPool2d: explicit per-side padding with -inf, then a valid max pool (NHWC). */
    class TorchMaxPool2D extends Layer {
      constructor(args) {
        super(args);
        this.poolSize = args.poolSize;
        this.strides = args.strides || args.poolSize;
        this.padding = args.padding || [[0, 0], [0, 0]];
      }
      computeOutputShape(s) {
        var p = this.padding;
        return [
          s[0],
          outLength(s[1], this.poolSize[0], this.strides[0], p[0][0], p[0][1], 1),
          outLength(s[2], this.poolSize[1], this.strides[1], p[1][0], p[1][1], 1),
          s[3],
        ];
      }
      call(inputs) {
        var self = this;
        return tfc.tidy(function () {
          var x = Array.isArray(inputs) ? inputs[0] : inputs;
          return tfc.maxPool(padSpatial(x, self.padding, LOWEST), self.poolSize, self.strides, 'valid');
        });
      }
      getConfig() {
        return Object.assign({}, super.getConfig(), {
          poolSize: this.poolSize,
          strides: this.strides,
          padding: this.padding,
        });
      }
    }
    TorchMaxPool2D.className = 'TorchMaxPool2D';

    /**
     * PyTorch AvgPool2d with count_include_pad and ceil_mode (NHWC), padding [ph, pw]:
     * a last window that runs past the padded input averages only what it covers.
     */
    class TorchAvgPool2D extends Layer {
      constructor(args) {
        super(args);
        this.poolSize = args.poolSize;
        this.strides = args.strides || args.poolSize;
        this.padding = args.padding || [0, 0];
        this.ceilMode = args.ceilMode === true;
      }
      windows(size, axis) {
        var k = this.poolSize[axis], s = this.strides[axis], p = this.padding[axis];
        var out = (this.ceilMode ? Math.ceil : Math.floor)((size + 2 * p - k) / s) + 1;
        // PyTorch drops a ceil window that would start past the input.
        if (this.ceilMode && (out - 1) * s >= size + p) out -= 1;
        var lengths = [];
        for (var i = 0; i < out; i++) lengths.push(Math.min(i * s + k, size + 2 * p) - i * s);
        return { out: out, overhang: Math.max(0, (out - 1) * s + k - (size + 2 * p)), lengths: lengths };
      }
      computeOutputShape(s) {
        return [
          s[0],
          s[1] === null ? null : this.windows(s[1], 0).out,
          s[2] === null ? null : this.windows(s[2], 1).out,
          s[3],
        ];
      }
      call(inputs) {
        var self = this;
        return tfc.tidy(function () {
          var x = Array.isArray(inputs) ? inputs[0] : inputs;
          var rows = self.windows(x.shape[1], 0);
          var cols = self.windows(x.shape[2], 1);
          var p = self.padding;
          var padded = padSpatial(x, [[p[0], p[0] + rows.overhang], [p[1], p[1] + cols.overhang]], 0);
          var y = tfc.avgPool(padded, self.poolSize, self.strides, 'valid');
          if (rows.overhang === 0 && cols.overhang === 0) return y;
          var area = self.poolSize[0] * self.poolSize[1];
          var scale = [];
          rows.lengths.forEach(function (lh) {
            cols.lengths.forEach(function (lw) {
              scale.push(area / (lh * lw));
            });
          });
          return tfc.mul(y, tfc.tensor4d(scale, [1, rows.out, cols.out, 1]));
        });
      }
      getConfig() {
        return Object.assign({}, super.getConfig(), {
          poolSize: this.poolSize,
          strides: this.strides,
          padding: this.padding,
          ceilMode: this.ceilMode,
        });
      }
    }
    TorchAvgPool2D.className = 'TorchAvgPool2D';

    /**
     * PyTorch Conv2d with groups (and stride with dilation), on NHWC input that is
     * already padded. kernel: [kh, kw, in/groups, out], as Keras's Conv2D.
     */
    class TorchConv2D extends Layer {
      constructor(args) {
        super(args);
        this.filters = args.filters;
        this.kernelSize = args.kernelSize;
        this.strides = args.strides || [1, 1];
        this.dilationRate = args.dilationRate || [1, 1];
        this.groups = args.groups || 1;
        this.useBias = args.useBias !== false;
      }
      build(inputShape) {
        var channels = inputShape[3];
        if (channels % this.groups !== 0) {
          throw new Error('TorchConv2D ' + this.name + ': ' + channels + ' input channels do not split into ' + this.groups + ' groups');
        }
        this.kernel = this.addWeight('kernel',
          [this.kernelSize[0], this.kernelSize[1], channels / this.groups, this.filters],
          'float32', tfl.initializers.glorotUniform({}));
        if (this.useBias) this.bias = this.addWeight('bias', [this.filters], 'float32', tfl.initializers.zeros());
        this.built = true;
      }
      computeOutputShape(s) {
        return [
          s[0],
          outLength(s[1], this.kernelSize[0], this.strides[0], 0, 0, this.dilationRate[0]),
          outLength(s[2], this.kernelSize[1], this.strides[1], 0, 0, this.dilationRate[1]),
          this.filters,
        ];
      }
      call(inputs) {
        var self = this;
        return tfc.tidy(function () {
          var x = Array.isArray(inputs) ? inputs[0] : inputs;
          var kernel = self.kernel.read();
          var strided = (self.strides[0] > 1 || self.strides[1] > 1) &&
            (self.dilationRate[0] > 1 || self.dilationRate[1] > 1);
          // tfjs refuses stride with dilation: convolve densely, then subsample.
          var convStride = strided ? [1, 1] : self.strides;
          var xs = self.groups === 1 ? [x] : tfc.split(x, self.groups, 3);
          var ks = self.groups === 1 ? [kernel] : tfc.split(kernel, self.groups, 3);
          var ys = xs.map(function (xi, g) {
            return tfc.conv2d(xi, ks[g], convStride, 'valid', 'NHWC', self.dilationRate);
          });
          var y = ys.length === 1 ? ys[0] : tfc.concat(ys, 3);
          if (strided) {
            y = tfc.stridedSlice(y, [0, 0, 0, 0], y.shape, [1, self.strides[0], self.strides[1], 1]);
          }
          return self.useBias ? tfc.add(y, self.bias.read()) : y;
        });
      }
      getConfig() {
        return Object.assign({}, super.getConfig(), {
          filters: this.filters,
          kernelSize: this.kernelSize,
          strides: this.strides,
          dilationRate: this.dilationRate,
          groups: this.groups,
          useBias: this.useBias,
        });
      }
    }
    TorchConv2D.className = 'TorchConv2D';

    /** GELU with PyTorch's approximate='tanh': 0.5·x·(1 + tanh(√(2/π)·(x + 0.044715·x³))). */
    class TorchGELU extends Layer {
      constructor(args) {
        super(args);
        this.approximate = args.approximate || 'tanh';
      }
      computeOutputShape(s) {
        return s;
      }
      call(inputs) {
        var self = this;
        return tfc.tidy(function () {
          var x = Array.isArray(inputs) ? inputs[0] : inputs;
          if (self.approximate !== 'tanh') {
            return tfc.mul(tfc.mul(x, 0.5), tfc.add(tfc.erf(tfc.mul(x, Math.SQRT1_2)), 1));
          }
          var inner = tfc.mul(tfc.add(x, tfc.mul(tfc.pow(x, 3), 0.044715)), Math.sqrt(2 / Math.PI));
          return tfc.mul(tfc.mul(x, 0.5), tfc.add(tfc.tanh(inner), 1));
        });
      }
      getConfig() {
        return Object.assign({}, super.getConfig(), { approximate: this.approximate });
      }
    }
    TorchGELU.className = 'TorchGELU';

    tfc.serialization.registerClass(TorchMaxPool2D);
    tfc.serialization.registerClass(TorchAvgPool2D);
    tfc.serialization.registerClass(TorchConv2D);
    tfc.serialization.registerClass(TorchGELU);
    registered = true;
  }

  if (typeof module === 'object' && module.exports) {
    module.exports = { registerConvnetStudioLayers: registerConvnetStudioLayers };
  } else {
    root.registerConvnetStudioLayers = registerConvnetStudioLayers;
    if (root.tf && root.tf.layers) registerConvnetStudioLayers(root.tf);
  }
})(typeof globalThis !== 'undefined' ? globalThis : this);
`;
