'use strict';
// The namespace's error classes (JS API §"Error Objects"): CompileError,
// LinkError, RuntimeError. Each namespace (the main one, each sandbox's)
// makes its own, so `instanceof` works within it.

const { Error: ErrorCtor } = globalThis;
const { defineProperty, create: ObjectCreate, setPrototypeOf } = Object;
const { construct: ReflectConstruct } = Reflect;

/**
 * A NativeError-like class: callable with or without `new`, inheriting
 * from Error.
 */
function errorClass(name) {
  // Reflect.construct gives the object Error's internal slot and stack,
  // with the prototype of new.target (or of the class when called).
  const Ctor = function (message) {
    return ReflectConstruct(ErrorCtor, arguments, new.target === undefined ? Ctor : new.target);
  };
  defineProperty(Ctor, 'name', { value: name });
  setPrototypeOf(Ctor, ErrorCtor);
  const proto = ObjectCreate(ErrorCtor.prototype);
  defineProperty(proto, 'constructor', { value: Ctor, writable: true, enumerable: false, configurable: true });
  defineProperty(proto, 'name', { value: name, writable: true, enumerable: false, configurable: true });
  defineProperty(proto, 'message', { value: '', writable: true, enumerable: false, configurable: true });
  defineProperty(Ctor, 'prototype', { value: proto, writable: false, enumerable: false, configurable: false });
  return Ctor;
}

/** Adds the error classes to the namespace under construction. */
module.exports = function defineErrors(ns) {
  ns.CompileError = errorClass('CompileError');
  ns.LinkError = errorClass('LinkError');
  ns.RuntimeError = errorClass('RuntimeError');
};
// (JSPI's SuspendError is one too: lib/jspi.js.)
module.exports.errorClass = errorClass;
