// KD Lab in the browser: a drawing pad whose strokes go through the same preprocessing as the Python lab
// (preprocess.js) to the teacher and the student, exported to ONNX and run by ONNX Runtime Web. The models
// answer while the digit is being drawn, at most once per display frame. window.kdLab exposes the 28x28
// input and the preprocessing for tests and benchmarks.
(function () {
  "use strict";

  const MODELS = ["teacher", "student"];
  let penWidth = 0; // px on the pad, from site.json's widgets (the Python lab's pen)

  const pad = document.getElementById("pad");
  const padContext = pad.getContext("2d", { willReadFrequently: true });
  const seen = document.getElementById("seen");
  const seenContext = seen.getContext("2d");
  const status = document.getElementById("status");
  const temperatureInput = document.getElementById("temperature");

  const lab = {
    ready: false, // both models loaded
    readyAt: null, // ms after navigation start
    lastInput: null, // Float32Array(784) the models last read, or null for a blank pad
    logits: null, // {teacher, student} of the last input
    version: 0, // bumped by every change to the drawing
    renderedVersion: -1, // the drawing version whose answers are on the page
    renderedAt: null,
    changedAt: null, // when the drawing last changed
    releasedVersion: null, // the drawing version when the pen was last lifted
    releasedAt: null,
    preprocess: (imageData) => kdPreprocess.canvasToMnist(imageData.width, imageData.height, imageData.data),
    preprocessRGBA: (width, height, bytes) => kdPreprocess.canvasToMnist(width, height, Uint8Array.from(bytes)),
    predict: null,
  };
  window.kdLab = lab;

  const strokes = []; // each an array of [x, y] points in pad pixels
  let drawing = false;
  let frameRequested = false;
  let busy = false;
  let pending = false;
  let sessions = null;

  // ---- drawing -------------------------------------------------------------------------------------
  function clearPad() {
    padContext.fillStyle = "#000";
    padContext.fillRect(0, 0, pad.width, pad.height);
  }

  function strokeStyle() {
    padContext.strokeStyle = "#fff";
    padContext.fillStyle = "#fff";
    padContext.lineWidth = penWidth;
    padContext.lineCap = "round";
    padContext.lineJoin = "round";
  }

  function dot([x, y]) {
    strokeStyle();
    padContext.beginPath();
    padContext.arc(x, y, penWidth / 2, 0, 2 * Math.PI);
    padContext.fill();
  }

  function segment([x0, y0], [x1, y1]) {
    strokeStyle();
    padContext.beginPath();
    padContext.moveTo(x0, y0);
    padContext.lineTo(x1, y1);
    padContext.stroke();
  }

  function redraw() {
    clearPad();
    for (const stroke of strokes) {
      dot(stroke[0]);
      for (let i = 1; i < stroke.length; i++) segment(stroke[i - 1], stroke[i]);
    }
    changed();
  }

  function padPoint(event) {
    const box = pad.getBoundingClientRect();
    return [((event.clientX - box.left) * pad.width) / box.width, ((event.clientY - box.top) * pad.height) / box.height];
  }

  pad.addEventListener("pointerdown", (event) => {
    event.preventDefault();
    pad.setPointerCapture(event.pointerId);
    drawing = true;
    const point = padPoint(event);
    strokes.push([point]);
    dot(point);
    changed();
  });

  pad.addEventListener("pointermove", (event) => {
    if (!drawing) return;
    const stroke = strokes[strokes.length - 1];
    const events = event.getCoalescedEvents ? event.getCoalescedEvents() : [];
    for (const each of events.length ? events : [event]) {
      const point = padPoint(each);
      segment(stroke[stroke.length - 1], point);
      stroke.push(point);
    }
    changed();
  });

  function lift() {
    if (!drawing) return;
    drawing = false;
    lab.releasedVersion = lab.version;
    lab.releasedAt = performance.now();
  }
  pad.addEventListener("pointerup", lift);
  pad.addEventListener("pointercancel", lift);

  document.getElementById("undo").addEventListener("click", () => {
    strokes.pop();
    redraw();
  });
  document.getElementById("clear").addEventListener("click", () => {
    strokes.length = 0;
    redraw();
  });

  // ---- answering -----------------------------------------------------------------------------------
  function changed() {
    lab.version += 1;
    lab.changedAt = performance.now();
    if (!frameRequested) {
      frameRequested = true;
      requestAnimationFrame(update);
    }
  }

  function softmax(logits, temperature) {
    const scaled = Array.from(logits, (value) => value / temperature);
    const peak = Math.max(...scaled);
    const exps = scaled.map((value) => Math.exp(value - peak));
    const total = exps.reduce((a, b) => a + b, 0);
    return exps.map((value) => value / total);
  }

  async function logitsOf(input) {
    const result = {};
    for (const name of MODELS) {
      // one model after the other: the WebAssembly runtime runs one session at a time anyway
      const session = sessions[name];
      const feeds = { [session.inputNames[0]]: new ort.Tensor("float32", input, [1, 1, 28, 28]) };
      const output = await session.run(feeds);
      result[name] = Array.from(output[session.outputNames[0]].data);
    }
    return result;
  }

  lab.predict = async (input) => {
    const logits = await logitsOf(Float32Array.from(input));
    return Object.fromEntries(MODELS.map((name) => [name, softmax(logits[name], 1)]));
  };

  async function update() {
    frameRequested = false;
    if (!sessions) return; // the models answer once loaded (see start)
    if (busy) {
      pending = true;
      return;
    }
    busy = true;
    const version = lab.version;
    try {
      const input = lab.preprocess(padContext.getImageData(0, 0, pad.width, pad.height));
      lab.lastInput = input;
      lab.logits = input ? await logitsOf(input) : null;
      showSeen(input);
      showAnswers();
      lab.renderedVersion = version;
      lab.renderedAt = performance.now();
    } catch (error) {
      showError(`Could not run the models: ${error.message || error}`);
    } finally {
      busy = false;
    }
    if (pending || lab.version !== version) {
      pending = false;
      changed();
    }
  }

  function showSeen(input) {
    const image = seenContext.createImageData(28, 28);
    for (let p = 0; p < 784; p++) {
      const level = input ? Math.round(255 * input[p]) : 0;
      image.data.set([level, level, level, 255], 4 * p);
    }
    seenContext.putImageData(image, 0, 0);
  }

  function showAnswers() {
    for (const name of MODELS) {
      const digit = document.getElementById(`${name}-digit`);
      const confidence = document.getElementById(`${name}-confidence`);
      const bars = document.getElementById(`${name}-bars`);
      if (!lab.logits) {
        digit.textContent = "–";
        confidence.innerHTML = "&nbsp;";
        bars.replaceChildren();
        continue;
      }
      const p = softmax(lab.logits[name], 1);
      const top = p.indexOf(Math.max(...p));
      digit.textContent = String(top);
      confidence.textContent = `${(100 * p[top]).toFixed(1)}% confident`;
      bars.replaceChildren(...p.map((value, d) => bar(d, value, d === top)));
    }
    showSoftened();
  }

  function bar(digit, value, isTop) {
    const column = document.createElement("div");
    column.className = isTop ? "bar top" : "bar";
    column.title = `digit ${digit}: ${(100 * value).toFixed(2)}%`;
    const fill = document.createElement("div");
    fill.className = "fill";
    fill.style.height = `${(100 * value).toFixed(2)}%`;
    const label = document.createElement("div");
    label.className = "label";
    label.textContent = String(digit);
    column.append(fill, label);
    return column;
  }

  function showSoftened() {
    const temperature = Number(temperatureInput.value);
    document.getElementById("temperature-value").textContent = String(temperature);
    const rows = document.getElementById("softened");
    if (!lab.logits) {
      rows.replaceChildren();
      return;
    }
    const softened = Object.fromEntries(MODELS.map((name) => [name, softmax(lab.logits[name], temperature)]));
    const children = [];
    for (let d = 0; d < 10; d++) {
      const label = document.createElement("div");
      label.className = "row-label";
      label.textContent = String(d);
      const pair = document.createElement("div");
      pair.className = "pair";
      for (const name of MODELS) {
        // a linear 0..1 scale, the value written beside the bar: how far T flattens the answer shows as it is
        const value = softened[name][d];
        const line = document.createElement("div");
        line.className = `line ${name}`;
        line.title = `${name}, digit ${d}: ${value.toExponential(2)}`;
        const track = document.createElement("div");
        track.className = "track";
        const fill = document.createElement("div");
        fill.className = "fill";
        fill.style.width = `${(100 * value).toFixed(2)}%`;
        track.append(fill);
        const text = document.createElement("span");
        text.className = "value";
        text.textContent = value.toFixed(3);
        line.append(track, text);
        pair.append(line);
      }
      children.push(label, pair);
    }
    rows.replaceChildren(...children);
  }

  temperatureInput.addEventListener("input", showSoftened);

  // ---- loading -------------------------------------------------------------------------------------
  function showError(message) {
    status.textContent = message;
    status.className = "error";
  }

  function percent(value, digits = 2) {
    return `${(100 * value).toFixed(digits)}%`;
  }

  function fillTables(models) {
    const names = Object.keys(models);
    const summary = document.getElementById("summary");
    summary.innerHTML =
      "<tr><th>model</th><th>test accuracy</th><th>errors</th><th>macro F1</th><th>parameters</th><th>ONNX file</th></tr>" +
      names
        .map((name) => {
          const m = models[name];
          return `<tr><td>${m.label}</td><td>${percent(m.accuracy)}</td><td>${m.errors}</td><td>${m.macro_f1.toFixed(4)}</td>` +
            `<td>${m.parameters.toLocaleString("en")}</td><td>${(m.onnx_bytes / 1024).toFixed(0)} KiB</td></tr>`;
        })
        .join("");
    const perClass = document.getElementById("per-class");
    perClass.innerHTML =
      `<tr><th>model</th>${Array.from({ length: 10 }, (_, d) => `<th>${d}</th>`).join("")}</tr>` +
      names
        .map((name) => `<tr><td>${models[name].label}</td>${models[name].per_class_f1.map((f) => `<td>${f.toFixed(3)}</td>`).join("")}</tr>`)
        .join("");
  }

  // The pad and the slider as kd.site wrote them from the Python lab's widgets (kd.lab.widgets).
  function applyWidgets(widgets) {
    pad.width = pad.height = widgets.canvas_pixels;
    penWidth = widgets.pen_width;
    const range = widgets.temperature;
    Object.assign(temperatureInput, { min: range.low, max: range.high, step: range.step, value: range.default });
    document.getElementById("temperature-value").textContent = String(Number(temperatureInput.value));
    redraw(); // resizing clears a canvas: anything drawn before the config arrived is drawn again
  }

  async function start() {
    clearPad();
    showSeen(null);
    try {
      const site = await (await fetch("site.json")).json();
      applyWidgets(site.widgets);
      if (site.lab_url) {
        document.getElementById("lab-link").href = site.lab_url;
        document.getElementById("lab-line").hidden = false;
      }
      fillTables(site.models);
      ort.env.logLevel = "error";
      ort.env.wasm.wasmPaths = new URL("ort/", document.baseURI).href; // the runtime ships with the page
      // threads need SharedArrayBuffer, which only a cross-origin-isolated page has
      ort.env.wasm.numThreads = self.crossOriginIsolated ? Math.min(4, navigator.hardwareConcurrency || 1) : 1;
      const options = { executionProviders: ["wasm"], graphOptimizationLevel: "all" };
      // both files download at once; the sessions are created one after the other (one runtime instance)
      const graphs = await Promise.all(
        MODELS.map(async (name) => new Uint8Array(await (await fetch(site.models[name].onnx)).arrayBuffer())),
      );
      const loaded = {};
      for (const [index, name] of MODELS.entries()) loaded[name] = await ort.InferenceSession.create(graphs[index], options);
      sessions = loaded;
      await logitsOf(new Float32Array(784)); // the first run prepares the kernels: not on the visitor's time
      lab.ready = true;
      lab.readyAt = performance.now();
      status.textContent = "Ready: draw a digit. Both models run in this page (ONNX Runtime Web, WebAssembly).";
      changed(); // anything drawn while loading
    } catch (error) {
      showError(`Could not load the models: ${error.message || error}`);
    }
  }

  start();
})();
