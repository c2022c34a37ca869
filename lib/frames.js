'use strict';
// Wasm frames in Error.stack. src/runtime/backtrace.rs formats them as V8 does
// (`    at name (wasm://wasm/<hash>:wasm-function[<index>]:0x<offset>)`);
// this splices them into the JS stack where V8 has them: in place of the
// frame of the exported function's closure (makeFunction in namespace.js),
// which V8's own JS-to-wasm wrapper never shows. As in V8, wasm frames
// count toward Error.stackTraceLimit.
//
// - A trap's error is made here, its wasm frames on top.
// - An error an import throws gets them when it leaves the import (V8
//   captures them at construction; ours are known only then): its own
//   `stack` becomes an accessor that splices on first read, so an import
//   that throws for control flow pays for formatting only if someone looks.
//   Only V8's own `stack` (or a plain string one) is touched. Crossing
//   further boundaries outward (import -> wasm -> JS -> wasm), it learns
//   which frames belong to which activation (see addFrames).

const { Error: ErrorCtor, WeakSet: WeakSetCtor, WeakMap: WeakMapCtor } = globalThis;
const { defineProperty, getOwnPropertyDescriptor } = Object;
const ReflectApply = Reflect.apply;
const captureStackTrace = ErrorCtor.captureStackTrace;
const ErrorToString = ErrorCtor.prototype.toString;
const WeakSetHas = Function.prototype.call.bind(WeakSet.prototype.has);
const WeakSetAdd = Function.prototype.call.bind(WeakSet.prototype.add);
const StringSplit = Function.prototype.call.bind(String.prototype.split);
const StringStartsWith = Function.prototype.call.bind(String.prototype.startsWith);
const StringEndsWith = Function.prototype.call.bind(String.prototype.endsWith);
const ArrayJoin = Function.prototype.call.bind(Array.prototype.join);
const ArraySplice = Function.prototype.call.bind(Array.prototype.splice);

// V8's own `stack` accessor (Node 22+; Node 20 has a data property).
const v8Get = stackGetter();

/**
 * The getter of V8's `stack`, read from an error made with no frames: on
 * Node 20 reading the descriptor formats the stack, which for this file's
 * frames cost ~0.25 ms of every start-up (~0.05 ms with none).
 */
function stackGetter() {
  const limit = ErrorCtor.stackTraceLimit;
  const lower = Object.hasOwn(ErrorCtor, 'stackTraceLimit') && typeof limit === 'number';
  try {
    if (lower) ErrorCtor.stackTraceLimit = 0;
  } catch {
    // Not writable: format what there is.
  }
  try {
    const descriptor = getOwnPropertyDescriptor(new ErrorCtor(), 'stack');
    return descriptor && descriptor.get;
  } finally {
    try {
      if (lower) ErrorCtor.stackTraceLimit = limit;
    } catch {
      // As above.
    }
  }
}

/**
 * Where the exported-function closures of `makeFunction` sit in the source
 * (`file:line:column` of each arity's call), found by calling each once.
 */
function closureLocations(makeFunction) {
  const locations = [];
  const limit = ErrorCtor.stackTraceLimit;
  ErrorCtor.stackTraceLimit = 10;
  try {
    for (let arity = 0; arity <= 5; arity++) {
      const f = makeFunction(() => new ErrorCtor().stack, {}, 'wasmFramesProbe', arity);
      for (const line of StringSplit(f(), '\n')) {
        const m = /^ {4}at wasmFramesProbe \((.*)\)$/.exec(line);
        if (m) locations.push(m[1]);
      }
    }
  } finally {
    ErrorCtor.stackTraceLimit = limit;
  }
  return locations;
}

function makeFrames(binding, makeFunction) {
  // Found when first needed (the probe costs a start-up ~0.7 ms), and
  // again if that attempt failed (a stack nearly exhausted: no frames).
  let locations = null;
  const isClosure = (line) => {
    if (locations === null) {
      try {
        locations = closureLocations(makeFunction);
      } catch {
        return false;
      }
    }
    return locations.some((at) => StringEndsWith(line, ` (${at})`) || StringEndsWith(line, ` ${at}`));
  };

  /** Whether `line` is a frame of this package's shim (lib/). */
  const isShim = (line) => line.includes(` (${__dirname}/`) || line.includes(` at ${__dirname}/`);

  /**
   * `stack` with each activation's wasm frames (`levels`, innermost
   * first) in place of its closure frame, the innermost closure first.
   * A trap's innermost frames go on top (its stack starts at the closure,
   * or at the shim's `new Instance` for a start function, whose frames V8
   * does not show either).
   */
  function splice(stack, levels, trap) {
    const lines = StringSplit(stack, '\n');
    let first = 0;
    while (first < lines.length && !StringStartsWith(lines[first], '    at ')) first++;
    let at = first;
    for (let level = 0; level < levels.length; level++) {
      const frames = levels[level];
      if (level === 0 && trap) {
        if (at < lines.length && isClosure(lines[at])) {
          ArraySplice(lines, at, 1, ...frames);
        } else {
          let shim = 0;
          while (at + shim < lines.length && isShim(lines[at + shim])) shim++;
          ArraySplice(lines, at, shim, ...frames);
        }
        at += frames.length;
        continue;
      }
      while (at < lines.length && !isClosure(lines[at])) at++;
      if (at === lines.length) break;
      ArraySplice(lines, at, 1, ...frames);
      at += frames.length;
    }
    const limit = ErrorCtor.stackTraceLimit;
    if (typeof limit === 'number' && lines.length - first > limit) {
      lines.length = first + Math.max(0, Math.floor(limit));
    }
    return ArrayJoin(lines, '\n');
  }

  /** Whether `list` ends with `tail` (frames as strings). */
  const endsWith = (list, tail) =>
    tail.length <= list.length && tail.every((line, i) => line === list[list.length - tail.length + i]);

  // Per annotated error: its wasm frames by activation, until its stack is
  // first read.
  const pending = new WeakMapCtor();
  const annotated = new WeakSetCtor();

  /**
   * Makes `error.stack` show `frames`: a trap's (`trap`), or those of the
   * store's activations when `error` crosses from an import back into
   * wasm. wasmtime gives the frames of every activation of the store at
   * once; when the error crosses an outer boundary, the frames below it
   * (a tail of those known) belong after the next closure frame.
   */
  function addFrames(error, frames, trap) {
    const state = pending.get(error);
    if (state !== undefined) {
      const last = state.levels[state.levels.length - 1];
      if (endsWith(last, frames)) {
        if (last.length === frames.length) return; // the same activation again
        last.length -= frames.length;
      }
      state.levels.push(frames);
      return;
    }
    if (WeakSetHas(annotated, error)) return;
    WeakSetAdd(annotated, error);
    const descriptor = getOwnPropertyDescriptor(error, 'stack');
    if (descriptor === undefined || !descriptor.configurable) return;
    let read;
    if ('value' in descriptor) {
      const { value } = descriptor;
      if (typeof value !== 'string' || !descriptor.writable) return;
      read = () => value;
    } else if (v8Get !== undefined && descriptor.get === v8Get) {
      read = () => ReflectApply(v8Get, error, []);
    } else {
      return;
    }
    lazyStack(error, frames, (levels) => {
      const stack = read();
      return typeof stack === 'string' ? splice(stack, levels, trap) : stack;
    });
  }

  /**
   * Gives `error` a `stack` accessor that formats, on its first read, with
   * `format(levels)`: `levels` starts as [frames] and grows while the
   * error crosses more boundaries (addFrames). A write replaces it.
   */
  function lazyStack(error, frames, format) {
    const levels = [[...frames]];
    pending.set(error, { levels });
    let done = false;
    let stack;
    defineProperty(error, 'stack', {
      get() {
        if (!done) {
          done = true;
          pending.delete(error);
          stack = format(levels);
        }
        return stack;
      },
      set(value) {
        done = true;
        pending.delete(error);
        stack = value;
      },
      enumerable: false,
      configurable: true,
    });
  }

  /**
   * Gives a trap's `error` (just made by `maker`) its stack with `frames`.
   * On Node 20 reading V8's data `stack` formats it (some 20 µs), so the
   * JS frames are captured on a holder instead and formatted only when
   * `stack` is first read, under the error's own header.
   */
  function addTrapFrames(error, frames, maker) {
    if (v8Get !== undefined) {
      captureStackTrace(error, maker);
      addFrames(error, frames, true);
      return;
    }
    const holder = {};
    captureStackTrace(holder, maker);
    WeakSetAdd(annotated, error);
    lazyStack(error, frames, (levels) => {
      // The holder's header is V8's "Error"; the error's is its
      // toString, as V8 writes it.
      const lines = StringSplit(holder.stack, '\n');
      lines[0] = ReflectApply(ErrorToString, error, []);
      return splice(ArrayJoin(lines, '\n'), levels, true);
    });
  }

  binding.setFramesHook((error, frames) => addFrames(error, frames, false));
  return { addFrames, addTrapFrames };
}

module.exports = makeFrames;
