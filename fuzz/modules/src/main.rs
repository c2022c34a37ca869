//! Generates the random modules of the module fuzzer (fuzz/modules.js).
//!
//!   wasm-module-gen --seed S --start I --count N [--features a,b] [--wat]
//!
//! Module I of seed S is a pure function of (S, I, features): its input bytes
//! come from a SplitMix64 stream seeded by both, and wasm-smith turns them
//! into a valid module. Each module is printed as one line of JSON:
//! `{"iteration":I,"hex":"0061736d...","imports":[...],"exports":[...]}`,
//! the types of its imports and exports spelled out (the JS API cannot tell
//! a function's signature). With --wat, the text of each module is printed
//! instead (for failure reports).

use std::fmt::Write as _;
use std::io::Write as _;

use arbitrary::Unstructured;
use wasm_smith::{Config, Module};
use wasmparser::types::{EntityType, TypesRef};
use wasmparser::{RefType, ValType, Validator};

/// Fuel of each instance (wasm-smith's `ensure_termination`): decremented at
/// each function entry and loop head, a trap when spent. It bounds run time,
/// and recursion depth well below either engine's stack limit.
const FUEL: u32 = 1000;

struct Options {
  seed: u64,
  start: u64,
  count: u64,
  features: Vec<String>,
  wat: bool,
}

fn usage(problem: &str) -> ! {
  eprintln!("{problem}");
  eprintln!("usage: wasm-module-gen --seed S --start I --count N [--features a,b] [--wat]");
  std::process::exit(2)
}

fn parse_args() -> Options {
  let mut options = Options {
    seed: 1,
    start: 0,
    count: 1,
    features: Vec::new(),
    wat: false,
  };
  let mut args = std::env::args().skip(1);
  while let Some(arg) = args.next() {
    let mut value = || {
      args
        .next()
        .unwrap_or_else(|| usage(&format!("{arg} needs a value")))
    };
    let number = |v: String| {
      v.parse::<u64>()
        .unwrap_or_else(|_| usage(&format!("not a number: {v}")))
    };
    match arg.as_str() {
      "--seed" => options.seed = number(value()),
      "--start" => options.start = number(value()),
      "--count" => options.count = number(value()),
      "--features" => {
        options.features = value()
          .split(',')
          .filter(|f| !f.is_empty())
          .map(str::to_owned)
          .collect();
      }
      "--wat" => options.wat = true,
      _ => usage(&format!("unknown argument {arg}")),
    }
  }
  options
}

/// SplitMix64: a tiny, well-mixed PRNG, so that the input bytes of a module
/// depend on no crate's version.
struct SplitMix(u64);

impl SplitMix {
  fn next(&mut self) -> u64 {
    self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
    let mut z = self.0;
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
  }
}

/// What both engines run: MVP, bulk memory, multi-value, reference types
/// (funcref), sign extension, saturating conversions, mutable globals, plus
/// the optional features asked for. Everything small, so that an iteration
/// takes milliseconds.
fn config(features: &[String]) -> Config {
  let mut config = Config {
    max_types: 12,
    max_imports: 6,
    min_funcs: 2,
    max_funcs: 8,
    max_globals: 8,
    max_exports: 24,
    max_element_segments: 4,
    max_elements: 16,
    max_data_segments: 4,
    max_instructions: 120,
    max_nesting_depth: 6,
    max_memories: 1,
    // Page counts, in bytes: every memory at most 4 pages, and with a
    // maximum (so that memory.grow in wasm stays small, as the hashes do).
    max_memory32_bytes: 4 * 65536,
    max_memory64_bytes: 4 * 65536,
    memory_max_size_required: true,
    max_tables: 2,
    max_table_elements: 32,
    table_max_size_required: true,
    bulk_memory_enabled: true,
    multi_value_enabled: true,
    reference_types_enabled: true,
    saturating_float_to_int_enabled: true,
    sign_extension_ops_enabled: true,
    simd_enabled: false,
    relaxed_simd_enabled: false,
    memory64_enabled: false,
    exceptions_enabled: false,
    gc_enabled: false,
    tail_call_enabled: false,
    extended_const_enabled: false,
    threads_enabled: false,
    wide_arithmetic_enabled: false,
    custom_page_sizes_enabled: false,
    // NaN bits are not portable between engines: wasm-smith makes every
    // float result canonical, and the driver compares NaN as NaN anyway.
    canonicalize_nans: true,
    // Everything observable is exported: memories, tables and globals are
    // compared after each call.
    export_everything: true,
    allow_start_export: true,
    ..Config::default()
  };
  for feature in features {
    match feature.as_str() {
      "simd" => config.simd_enabled = true,
      "memory64" => config.memory64_enabled = true,
      "multi-memory" => config.max_memories = 3,
      "tail-call" => config.tail_call_enabled = true,
      "extended-const" => config.extended_const_enabled = true,
      // 64-bit tables come with memory64; without this they are skipped.
      "table64" => config.memory64_enabled = true,
      // Exceptions (the library has them; the driver cannot yet snapshot
      // exnref tables and globals, which JS cannot read) and GC (off in the
      // library): the driver refuses what either side does not validate.
      "exceptions" => config.exceptions_enabled = true,
      "gc" => config.gc_enabled = true,
      // externref comes with reference types; nothing to switch on here.
      "externref" => {}
      other => usage(&format!("unknown feature {other}")),
    }
  }
  config
}

fn generate(options: &Options, iteration: u64) -> Vec<u8> {
  let mut rng =
    SplitMix(options.seed.wrapping_mul(0x1_0000_0001) ^ iteration.wrapping_mul(0x9e37_79b9));
  // Try successive inputs until wasm-smith makes a module (it fails only
  // when the input runs out at an awkward place).
  loop {
    let len = 512 + (rng.next() % 8192) as usize;
    let data: Vec<u8> = (0..len).map(|_| rng.next() as u8).collect();
    let mut u = Unstructured::new(&data);
    let Ok(mut module) = Module::new(config(&options.features), &mut u) else {
      continue;
    };
    if module.ensure_termination(FUEL).is_err() {
      continue;
    }
    let bytes = module.to_bytes();
    if !options.features.iter().any(|f| f == "table64") && has_table64(&bytes) {
      continue;
    }
    if options.features.iter().any(|f| f == "externref") {
      return bytes;
    }
    match without_externref(&bytes) {
      Some(bytes) => return bytes,
      None => continue,
    }
  }
}

/// Whether the module has a 64-bit table (which memory64 brings along in
/// wasm-smith). The library's Table has no 64-bit JS API yet (BigInt length
/// and indices, `address: "i64"`), so such modules are skipped unless
/// `--features table64` is given.
fn has_table64(bytes: &[u8]) -> bool {
  let Ok(types) = Validator::new_with_features(wasmparser::WasmFeatures::all()).validate_all(bytes)
  else {
    return true;
  };
  let types = types.as_ref();
  (0..types.table_count()).any(|i| types.table_at(i).table64)
}

/// The module with every externref made a funcref, or None if that fails.
/// wasm-smith has no switch for externref apart from reference types (which
/// funcref needs) and picks it for half the reference types; the library has
/// no externref yet. Without GC no instruction is specific to externref, so
/// the swap keeps the module valid; it is done in the text (a name that
/// spells "extern" changes too, harmlessly) and checked by validation.
fn without_externref(bytes: &[u8]) -> Option<Vec<u8>> {
  let text = wasmprinter::print_bytes(bytes).ok()?;
  if !text.contains("extern") {
    return Some(bytes.to_vec());
  }
  let text = text
    .replace("externref", "funcref")
    .replace("extern", "func");
  let bytes = wat::parse_str(&text).ok()?;
  Validator::new_with_features(wasmparser::WasmFeatures::all())
    .validate_all(&bytes)
    .ok()?;
  Some(bytes)
}

fn val_type(ty: ValType) -> String {
  match ty {
    ValType::I32 => "i32".into(),
    ValType::I64 => "i64".into(),
    ValType::F32 => "f32".into(),
    ValType::F64 => "f64".into(),
    ValType::V128 => "v128".into(),
    ValType::Ref(r) => ref_type(r),
  }
}

fn ref_type(r: RefType) -> String {
  if r == RefType::FUNCREF {
    "anyfunc".into()
  } else if r == RefType::EXTERNREF {
    "externref".into()
  } else {
    format!("{r}")
  }
}

fn json_str(s: &str) -> String {
  let mut out = String::from("\"");
  for c in s.chars() {
    match c {
      '"' => out.push_str("\\\""),
      '\\' => out.push_str("\\\\"),
      c if (c as u32) < 0x20 || c == '\u{2028}' || c == '\u{2029}' => {
        let _ = write!(out, "\\u{:04x}", c as u32);
      }
      c => out.push(c),
    }
  }
  out.push('"');
  out
}

fn list(items: impl Iterator<Item = String>) -> String {
  format!("[{}]", items.collect::<Vec<_>>().join(","))
}

fn optional(value: Option<u64>) -> String {
  value.map_or_else(|| "null".into(), |v| v.to_string())
}

/// The type of an import or export as JSON fields (after "kind").
fn entity(types: &TypesRef<'_>, ty: EntityType) -> String {
  match ty {
    EntityType::Func(id) | EntityType::FuncExact(id) => {
      let func = types[id].unwrap_func();
      let params = list(func.params().iter().map(|t| json_str(&val_type(*t))));
      let results = list(func.results().iter().map(|t| json_str(&val_type(*t))));
      format!("\"kind\":\"function\",\"params\":{params},\"results\":{results}")
    }
    EntityType::Table(t) => format!(
      "\"kind\":\"table\",\"element\":{},\"initial\":{},\"maximum\":{},\"table64\":{}",
      json_str(&ref_type(t.element_type)),
      t.initial,
      optional(t.maximum),
      t.table64
    ),
    EntityType::Memory(m) => format!(
      "\"kind\":\"memory\",\"initial\":{},\"maximum\":{},\"memory64\":{},\"shared\":{}",
      m.initial,
      optional(m.maximum),
      m.memory64,
      m.shared
    ),
    EntityType::Global(g) => {
      format!(
        "\"kind\":\"global\",\"value\":{},\"mutable\":{}",
        json_str(&val_type(g.content_type)),
        g.mutable
      )
    }
    EntityType::Tag(_) => "\"kind\":\"tag\"".into(),
  }
}

fn describe(iteration: u64, bytes: &[u8]) -> String {
  // wasm-smith already made a module of the configured features; this pass
  // is for the types only.
  let features = wasmparser::WasmFeatures::all();
  let types = Validator::new_with_features(features)
    .validate_all(bytes)
    .unwrap_or_else(|e| panic!("wasm-smith made an invalid module (iteration {iteration}): {e}"));
  let types = types.as_ref();
  let imports = types
    .core_imports()
    .expect("a module")
    .map(|(module, name, ty)| {
      format!(
        "{{\"module\":{},\"name\":{},{}}}",
        json_str(module),
        json_str(name),
        entity(&types, ty)
      )
    });
  let imports = list(imports);
  let exports = list(
    types
      .core_exports()
      .expect("a module")
      .map(|(name, ty)| format!("{{\"name\":{},{}}}", json_str(name), entity(&types, ty))),
  );
  let mut hex = String::with_capacity(bytes.len() * 2);
  for b in bytes {
    let _ = write!(hex, "{b:02x}");
  }
  format!(
    "{{\"iteration\":{iteration},\"hex\":\"{hex}\",\"imports\":{imports},\"exports\":{exports}}}"
  )
}

fn main() {
  let options = parse_args();
  let stdout = std::io::stdout();
  let mut out = std::io::BufWriter::new(stdout.lock());
  for iteration in options.start..options.start + options.count {
    let bytes = generate(&options, iteration);
    let text = if options.wat {
      format!(
        ";; seed {} iteration {}\n{}",
        options.seed,
        iteration,
        wasmprinter::print_bytes(&bytes).unwrap_or_else(|e| format!(";; wasmprinter failed: {e}"))
      )
    } else {
      describe(iteration, &bytes)
    };
    writeln!(out, "{text}").expect("stdout");
  }
  out.flush().expect("stdout");
}
