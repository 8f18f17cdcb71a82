// The drawing's preprocessing, ported from kd.preprocess.canvas_to_mnist so that the browser feeds the
// models what the Python lab feeds them: ink map, crop to the ink, strokes thicker than MAX_STROKE
// thinned, longer side to 20 px with PIL's Lanczos resampling (same kernel, support and normalisation),
// contrast restored, then pasted into 28x28 with the centre of mass at the centre. Python's round()
// rounds halves to even; so does this.
// A classic script in the page (window.kdPreprocess), a CommonJS module under node, where
// tests/test_preprocess_js.py compares it with the Python on every `make test`.
(function (root, factory) {
  "use strict";
  const api = factory();
  if (typeof module === "object" && module.exports) module.exports = api;
  else root.kdPreprocess = api;
})(typeof self !== "undefined" ? self : globalThis, function () {
  "use strict";

  const INK_THRESHOLD = 0.1; // ink level (0..1) that counts as drawn
  const DIGIT_BOX = 20; // px: the longer side of the digit after scaling, as in MNIST
  const SIZE = 28; // px: side of the output image
  const MAX_STROKE = 0.2; // strokes wider than this share of the digit's longer side are thinned toward it

  function roundHalfEven(x) {
    const r = Math.round(x);
    return Math.abs(x % 1) === 0.5 && r % 2 !== 0 ? r - 1 : r;
  }

  function median(values) {
    const sorted = Float64Array.from(values).sort();
    const middle = sorted.length >> 1;
    return sorted.length % 2 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
  }

  // Ink level per pixel in [0, 1] for RGBA bytes (as ImageData holds them), whatever the colour scheme.
  function inkMap(width, height, rgba) {
    let biggest = 0;
    let alphaMin = Infinity;
    for (let i = 0; i < rgba.length; i++) {
      if (rgba[i] > biggest) biggest = rgba[i];
      if (i % 4 === 3 && rgba[i] < alphaMin) alphaMin = rgba[i];
    }
    const unit = biggest > 1 ? 255 : 1;
    const ink = new Float32Array(width * height);
    if (alphaMin / unit < 0.99) {
      for (let p = 0; p < ink.length; p++) ink[p] = rgba[4 * p + 3] / unit;
      return ink;
    }
    const grey = new Float32Array(width * height);
    for (let p = 0; p < grey.length; p++) {
      grey[p] = (0.299 * rgba[4 * p] + 0.587 * rgba[4 * p + 1] + 0.114 * rgba[4 * p + 2]) / unit;
    }
    const border = [];
    for (let x = 0; x < width; x++) border.push(grey[x], grey[(height - 1) * width + x]);
    for (let y = 0; y < height; y++) border.push(grey[y * width], grey[y * width + width - 1]);
    const background = median(border);
    const span = Math.max(background, 1 - background);
    for (let p = 0; p < ink.length; p++) ink[p] = Math.min(Math.max(Math.abs(grey[p] - background) / span, 0), 1);
    return ink;
  }

  function lanczos(x) {
    const sinc = (t) => (t === 0 ? 1 : Math.sin(Math.PI * t) / (Math.PI * t));
    return x >= -3 && x < 3 ? sinc(x) * sinc(x / 3) : 0;
  }

  // PIL's precompute_coeffs: for each output pixel, the first input pixel and normalised weights.
  function coefficients(inSize, outSize) {
    const scale = inSize / outSize;
    const filterScale = Math.max(scale, 1);
    const support = 3 * filterScale;
    const result = [];
    for (let xx = 0; xx < outSize; xx++) {
      const centre = (xx + 0.5) * scale;
      const xmin = Math.max(Math.trunc(centre - support + 0.5), 0);
      const xmax = Math.min(Math.trunc(centre + support + 0.5), inSize);
      const weights = [];
      let total = 0;
      for (let x = xmin; x < xmax; x++) {
        const w = lanczos((x - centre + 0.5) / filterScale);
        weights.push(w);
        total += w;
      }
      result.push({ start: xmin, weights: total !== 0 ? weights.map((w) => w / total) : weights });
    }
    return result;
  }

  // Image.resize(..., LANCZOS) of a float image: horizontal pass, then vertical, float32 in between.
  function resize(image, width, height, newWidth, newHeight) {
    const horizontal = new Float32Array(newWidth * height);
    const columns = coefficients(width, newWidth);
    for (let y = 0; y < height; y++) {
      for (let xx = 0; xx < newWidth; xx++) {
        const { start, weights } = columns[xx];
        let sum = 0;
        for (let k = 0; k < weights.length; k++) sum += image[y * width + start + k] * weights[k];
        horizontal[y * newWidth + xx] = sum;
      }
    }
    const out = new Float32Array(newWidth * newHeight);
    const rows = coefficients(height, newHeight);
    for (let yy = 0; yy < newHeight; yy++) {
      const { start, weights } = rows[yy];
      for (let x = 0; x < newWidth; x++) {
        let sum = 0;
        for (let k = 0; k < weights.length; k++) sum += horizontal[(start + k) * newWidth + x] * weights[k];
        out[yy * newWidth + x] = sum;
      }
    }
    return out;
  }

  // Paste a (h, w) digit into 28x28 so its centre of mass lands on the centre.
  function pasteCentred(digit, width, height) {
    let total = 0;
    let sumY = 0;
    let sumX = 0;
    for (let y = 0; y < height; y++) {
      for (let x = 0; x < width; x++) {
        const v = digit[y * width + x];
        total += v;
        sumY += y * v;
        sumX += x * v;
      }
    }
    const top = Math.min(Math.max(roundHalfEven(SIZE / 2 - sumY / total), 0), SIZE - height);
    const left = Math.min(Math.max(roundHalfEven(SIZE / 2 - sumX / total), 0), SIZE - width);
    const out = new Float32Array(SIZE * SIZE);
    for (let y = 0; y < height; y++) {
      for (let x = 0; x < width; x++) out[(top + y) * SIZE + left + x] = digit[y * width + x];
    }
    return out;
  }

  // The (width, height) ink map cut to the box around its drawn pixels; null if nothing is drawn.
  function cropped(ink, width, height) {
    let top = height;
    let bottom = -1;
    let left = width;
    let right = -1;
    for (let y = 0; y < height; y++) {
      for (let x = 0; x < width; x++) {
        if (ink[y * width + x] > INK_THRESHOLD) {
          if (y < top) top = y;
          if (y > bottom) bottom = y;
          if (x < left) left = x;
          if (x > right) right = x;
        }
      }
    }
    if (bottom < 0) return null;
    const cropWidth = right - left + 1;
    const cropHeight = bottom - top + 1;
    const crop = new Float32Array(cropWidth * cropHeight);
    for (let y = 0; y < cropHeight; y++) {
      for (let x = 0; x < cropWidth; x++) crop[y * cropWidth + x] = ink[(top + y) * width + left + x];
    }
    return { crop, cropWidth, cropHeight };
  }

  // The strokes' mean width in px: twice the inked area (ink over half) over its outline (inked pixels
  // with a blank 4-neighbour); 0 for no ink.
  function strokeWidth(ink, width, height) {
    const on = (x, y) => x >= 0 && y >= 0 && x < width && y < height && ink[y * width + x] > 0.5;
    let area = 0;
    let outline = 0;
    for (let y = 0; y < height; y++) {
      for (let x = 0; x < width; x++) {
        if (!on(x, y)) continue;
        area++;
        if (!(on(x - 1, y) && on(x + 1, y) && on(x, y - 1) && on(x, y + 1))) outline++;
      }
    }
    return area === 0 ? 0 : (2 * area) / outline;
  }

  // The ink worn away by `steps` px on every side (blank beyond the edges): 3x3 minimums, a cross and a
  // square in turn, an octagon close to a disk.
  function erode(ink, width, height, steps) {
    let current = ink;
    for (let step = 0; step < steps; step++) {
      const square = step % 2 === 1;
      const next = new Float32Array(width * height);
      for (let y = 0; y < height; y++) {
        for (let x = 0; x < width; x++) {
          let least = current[y * width + x];
          for (let dy = -1; dy <= 1; dy++) {
            for (let dx = -1; dx <= 1; dx++) {
              if ((dx !== 0 && dy !== 0 && !square) || (dx === 0 && dy === 0)) continue;
              const xx = x + dx;
              const yy = y + dy;
              const v = xx < 0 || yy < 0 || xx >= width || yy >= height ? 0 : current[yy * width + xx];
              if (v < least) least = v;
            }
          }
          next[y * width + x] = least;
        }
      }
      current = next;
    }
    return current;
  }

  // A cropped digit with strokes wider than MAX_STROKE of its longer side, worn by half the excess on each side
  // and cropped again (unchanged if they are not, or if thinning would leave nothing).
  function thinned(digit) {
    const { crop, cropWidth, cropHeight } = digit;
    const excess = strokeWidth(crop, cropWidth, cropHeight) - MAX_STROKE * Math.max(cropWidth, cropHeight);
    const steps = excess > 0 ? roundHalfEven(excess / 2) : 0;
    if (steps === 0) return digit;
    return cropped(erode(crop, cropWidth, cropHeight, steps), cropWidth, cropHeight) || digit;
  }

  // RGBA bytes of a (height, width) drawing -> Float32Array(784), white digit on black; null if blank.
  function canvasToMnist(width, height, rgba) {
    const found = cropped(inkMap(width, height, rgba), width, height);
    if (found === null) return null;
    const { crop, cropWidth, cropHeight } = thinned(found);
    const scale = DIGIT_BOX / Math.max(cropWidth, cropHeight);
    const newWidth = Math.max(1, roundHalfEven(cropWidth * scale));
    const newHeight = Math.max(1, roundHalfEven(cropHeight * scale));
    const digit = resize(crop, cropWidth, cropHeight, newWidth, newHeight);
    let peak = 0;
    for (let i = 0; i < digit.length; i++) {
      digit[i] = Math.min(Math.max(digit[i], 0), 1);
      if (digit[i] > peak) peak = digit[i];
    }
    // Thin strokes fade when scaled down; restore full contrast so they look like MNIST ink.
    const gain = 1 / Math.max(peak, 1e-6);
    for (let i = 0; i < digit.length; i++) digit[i] *= gain;
    return pasteCentred(digit, newWidth, newHeight);
  }

  return { canvasToMnist, roundHalfEven, SIZE };
});
