fn main() {
  napi_build::setup();
  // Measurement hook (README, "Start-up"): WASM_MEMORY_RS_RELR=1 links with
  // packed relative relocations (DT_RELR). Off by default: a library linked
  // so needs glibc 2.36 or later to load at all.
  println!("cargo:rerun-if-env-changed=WASM_MEMORY_RS_RELR");
  if std::env::var_os("WASM_MEMORY_RS_RELR").is_some_and(|v| v == "1") {
    println!("cargo:rustc-cdylib-link-arg=-Wl,-z,pack-relative-relocs");
  }
}
