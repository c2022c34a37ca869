'use strict';
// WebAssembly.Table (JS API §"Tables"), table64 included.

const { TypeError, RangeError } = globalThis;
const BigIntCtor = BigInt;
const NumberCtor = Number;
const { isObject, addressValueToU64, defineInterface } = require('./webidl.js');

const kUint32Max = 4294967295;
/** The largest table V8 makes; ours matches, so programs behave alike. */
const kMaxTableElements = 10000000;

// TableDescriptor's `address` (table64): ToString, then "i32" or "i64".
function tableAddress(value, context) {
  if (value === undefined) return 'i32';
  const address = `${value}`;
  if (address !== 'i32' && address !== 'i64') {
    throw new TypeError(`${context}: Unknown address type '${address}'; pass 'i32' or 'i64'`);
  }
  return address;
}

// A size or index as JS sees it: a Number for i32, a BigInt for i64.
function toTableAddressValue(value, address) {
  return address === 'i64' ? BigIntCtor(value) : value;
}

/** Adds Table to the namespace under construction. */
module.exports = function defineTable(ns) {
  const { binding, gcTypes, holdsValues, kNotFunction } = ns;

  const kWrapTable = {};
  let isTable;
  let tableNative;
  let bindTable;
  const TableClass = class Table {
    #native;
    #store = null;
    #element;
    #address = 'i32';
    constructor(descriptor) {
      const context = 'WebAssembly.Table()';
      const value = arguments[1];
      if (!isObject(descriptor)) throw new TypeError(`${context}: Argument 0 must be a table descriptor`);
      if (descriptor === kWrapTable) {
        this.#native = arguments[1];
        this.#store = arguments[2];
        this.#element = this.#native.element();
        this.#address = this.#native.is64() ? 'i64' : 'i32';
        return;
      }
      // TableDescriptor members, in V8's order: element, address, initial,
      // maximum.
      const element = `${descriptor.element}`;
      if (element !== 'anyfunc' && element !== 'funcref' && element !== 'externref' && !gcTypes.includes(element)) {
        throw new TypeError(`${context}: Descriptor property 'element' must be a WebAssembly reference type`);
      }
      // The address type (table64) decides how sizes convert: read before
      // them. (Unlike Memory's, V8 reads no older `index` name here.)
      const address = tableAddress(descriptor.address, context);
      const initialValue = descriptor.initial;
      if (initialValue === undefined) throw new TypeError(`${context}: Property 'initial' is required`);
      const initial = addressValueToU64(initialValue, address, context, "Property 'initial'");
      if (initial > kMaxTableElements) {
        throw new RangeError(`${context}: Property 'initial': value ${initial} is above the upper bound ${kMaxTableElements}`);
      }
      const maximumValue = descriptor.maximum;
      let maximum;
      if (maximumValue !== undefined) {
        maximum = addressValueToU64(maximumValue, address, context, "Property 'maximum'");
        if (maximum < initial) {
          throw new RangeError(`${context}: Property 'maximum': value ${maximum} is below the lower bound ${initial}`);
        }
      }
      // 5-6. The initial value fills the table: with nothing to fill, V8
      // does not convert it, nor do we.
      this.#element = element === 'anyfunc' ? 'funcref' : element;
      this.#address = address;
      // Sizes cross as Numbers (the initial size is at most 10^7); a 64-bit
      // maximum as a BigInt, exactly (it takes part in import matching).
      this.#native = binding.createTable(
        this.#element, NumberCtor(initial), maximum, initial === 0 ? undefined : value, address === 'i64',
      );
      this.#store = this.#native.token();
    }

    get length() {
      const native = checkTable(this, 'get WebAssembly.Table.length');
      return toTableAddressValue(native.length(), this.#address);
    }

    grow(delta) {
      const value = arguments[1];
      const context = 'WebAssembly.Table.grow()';
      const native = checkTable(this, context);
      const address = this.#address;
      const d = addressValueToU64(delta, address, context, 'Argument 0');
      // A missing value is the default (null; undefined for externref); an
      // explicit undefined is converted (a TypeError for funcref), as V8
      // does from Node 22 on (Node 20's took it as missing).
      if (arguments.length >= 2 && value === undefined && this.#element === 'funcref') {
        throw new TypeError(`${context}: Argument 1 is invalid: ${kNotFunction}`);
      }
      // A 64-bit delta past any table V8 makes fails as V8's grow does
      // (the native side takes Numbers below 2^53).
      if (address === 'i64' && d > kUint32Max) {
        throw new RangeError(`${context}: failed to grow table by ${d}`);
      }
      const old = native.grow(NumberCtor(d), value);
      if (typeof value === 'function' || holdsValues(this.#element)) this.#store = native.token();
      return toTableAddressValue(old, address);
    }

    // (value is read from arguments: the length is 1.)
    set(index) {
      const value = arguments[1];
      const context = 'WebAssembly.Table.set()';
      const native = checkTable(this, context);
      const i = this.#index(native, index, context);
      // A missing value is null; V8 converts an explicit undefined (a
      // TypeError), after checking the index (a RangeError).
      if (arguments.length >= 2 && value === undefined && this.#element === 'funcref') {
        if (i >= native.length()) native.get(i);
        throw new TypeError(`${context}: Argument 1 is invalid for table: ${kNotFunction}`);
      }
      native.set(i, value);
      if (typeof value === 'function' || holdsValues(this.#element)) this.#store = native.token();
    }

    get(index) {
      const context = 'WebAssembly.Table.get()';
      const native = checkTable(this, context);
      return native.get(this.#index(native, index, context));
    }

    // An index as a Number; a 64-bit one past the table's end is refused
    // here, with its exact value in V8's message (Numbers round past 2^53).
    #index(native, index, context) {
      const address = this.#address;
      const i = addressValueToU64(index, address, context, 'Argument 0');
      if (address === 'i64' && i > kUint32Max) {
        const size = native.length();
        throw new RangeError(
          `${context}: invalid address ${i} in ${this.#element} table of size ${size}`,
        );
      }
      return NumberCtor(i);
    }

    // TableType type() (type-reflection proposal).
    type() {
      const native = checkTable(this, 'WebAssembly.Table.type()');
      const address = this.#address;
      const type = { minimum: toTableAddressValue(native.length(), address) };
      // The native maximum is a BigInt (a 64-bit one may pass 2^53).
      const maximum = native.maximum();
      if (maximum !== null) type.maximum = address === 'i64' ? maximum : NumberCtor(maximum);
      type.element = this.#element === 'funcref' ? 'anyfunc' : this.#element;
      // The address type, as Memory's type() gives it (memory64 proposal).
      type.address = address;
      return type;
    }

    static {
      isTable = (value) => isObject(value) && #native in value;
      tableNative = (table) => table.#native;
      bindTable = (table, store) => {
        table.#store = store;
      };
    }
  };
  const Table = defineInterface(TableClass, 'Table', ['length', 'grow', 'set', 'get', 'type']);
  function checkTable(value, context) {
    if (!isTable(value)) throw new TypeError(`${context}: Receiver is not a WebAssembly.Table`);
    return tableNative(value);
  }

  Object.assign(ns, {
    Table,
    isTable,
    tableNative,
    bindTable,
    wrapTable: (native, store) => new TableClass(kWrapTable, native, store),
  });
};
