//! Data segments merged before compilation, so that a module with tens of
//! thousands of them compiles as fast as one with a few.
//!
//! wasmtime compiles a module's active data segments into one start-up
//! function, a `memory.init` per segment, unless `Config::memory_init_cow`
//! turns them into a static memory image. That image is only usable by
//! memories wasmtime maps itself: with `Config::with_host_memory` (ours,
//! mapping.rs) wasmtime 48 reaches `unreachable!("memory_image is Some only
//! for mmap-based memories")` at the first instantiation. So copy-on-write
//! stays off, and a start-up function over esbuild.wasm's 98,450 segments
//! made Cranelift's e-graph pass (`insert_pure_enode`, linear per value in
//! one huge function) four times slower than the rest of the compile.
//!
//! Instead, where nothing can trap, the segments of each memory are replaced
//! by the final bytes they leave in it: one segment per run of covered bytes
//! (runs less than [`ZERO_GAP`] apart are joined in a memory of the module's
//! own, whose uncovered bytes are zero). Segment indices do not change:
//! active slots left over become empty passive segments, which behave as an
//! active segment does after instantiation (dropped: `memory.init` of a
//! length above 0 traps, `data.drop` does nothing). The rewrite happens only
//! when every active segment has a constant offset and fits its memory's
//! minimum size, so no instantiation can trap half-way through them and the
//! order in which bytes are written is unobservable.

use std::ops::Range;

use wasmparser::{DataKind, DataSectionReader, Operator, Parser, Payload, TypeRef};

use crate::runtime::engine::leb128;

/// Bumped when the rewrite changes (it is part of the cache key).
pub const VERSION: u32 = 1;

/// Runs of bytes closer than this in a memory the module defines are joined
/// (the zeros in between are what that memory holds anyway).
const ZERO_GAP: u64 = 4096;

/// Below this many active segments, rewriting gains nothing measurable.
const MIN_SEGMENTS: usize = 64;

/// One memory, as the data segments see it.
struct MemoryInfo {
  memory64: bool,
  /// Bytes at instantiation: the declared minimum (an import is at least that).
  min_bytes: u64,
  defined: bool,
}

/// An active segment: its memory, offset and bytes.
struct Active<'a> {
  memory: u32,
  offset: u64,
  data: &'a [u8],
}

/// The module with its data section rewritten, or `None` when it is left
/// as it is (few segments, a segment that may trap or reads a global, a
/// section that does not parse: wasmtime then reports on the original).
pub fn merge_data_segments(bytes: &[u8]) -> Option<Vec<u8>> {
  let mut memories = Vec::new();
  let mut data_section: Option<(Range<usize>, DataSectionReader<'_>)> = None;
  for payload in Parser::new(0).parse_all(bytes) {
    match payload.ok()? {
      Payload::ImportSection(reader) => {
        for import in reader.into_imports() {
          if let TypeRef::Memory(ty) = import.ok()?.ty {
            memories.push(memory_info(&ty, false)?);
          }
        }
      }
      Payload::MemorySection(reader) => {
        for ty in reader {
          memories.push(memory_info(&ty.ok()?, true)?);
        }
      }
      Payload::DataSection(reader) => data_section = Some((reader.range(), reader)),
      Payload::ModuleSection { .. } | Payload::ComponentSection { .. } => return None,
      _ => {}
    }
  }
  let (range, reader) = data_section?;
  let count = reader.count();
  // Each segment: `Err(bytes)` for a passive one (kept as it is), or active.
  let mut segments: Vec<Result<Active<'_>, &[u8]>> = Vec::with_capacity(count as usize);
  for data in reader {
    let data = data.ok()?;
    segments.push(match data.kind {
      DataKind::Passive => Err(data.data),
      DataKind::Active {
        memory_index,
        offset_expr,
      } => {
        let memory = memories.get(memory_index as usize)?;
        let offset = const_offset(&offset_expr, memory.memory64)?;
        let end = offset.checked_add(data.data.len() as u64)?;
        if end > memory.min_bytes {
          return None;
        }
        Ok(Active {
          memory: memory_index,
          offset,
          data: data.data,
        })
      }
    });
  }
  let active = segments.iter().filter(|s| s.is_ok()).count();
  if active < MIN_SEGMENTS {
    return None;
  }
  let mut chunks = Vec::new();
  for (index, memory) in memories.iter().enumerate() {
    let of_memory = segments
      .iter()
      .filter_map(|s| s.as_ref().ok())
      .filter(|s| s.memory as usize == index);
    chunks.extend(merge(index as u32, of_memory, memory.defined));
  }
  // Each run holds a segment's start, so there are never more chunks than
  // active slots; were there, leaving the module as it is stays correct.
  if chunks.len() > active {
    return None;
  }

  let mut section = Vec::new();
  leb128(&mut section, u64::from(count));
  let mut chunks = chunks.into_iter();
  for segment in &segments {
    match segment {
      Err(passive) => encode_passive(&mut section, passive),
      Ok(_) => match chunks.next() {
        Some((memory, offset, data)) => {
          encode_active(
            &mut section,
            memory,
            memories[memory as usize].memory64,
            offset,
            &data,
          );
        }
        None => encode_passive(&mut section, &[]),
      },
    }
  }
  // The section's header (id and size) precedes `range`; rebuild it.
  let header_start = section_start(bytes, range.start)?;
  let mut out = Vec::with_capacity(bytes.len());
  out.extend_from_slice(&bytes[..header_start]);
  out.push(11);
  leb128(&mut out, section.len() as u64);
  out.extend_from_slice(&section);
  out.extend_from_slice(&bytes[range.end..]);
  Some(out)
}

fn memory_info(ty: &wasmparser::MemoryType, defined: bool) -> Option<MemoryInfo> {
  let page = 1u64.checked_shl(ty.page_size_log2.unwrap_or(16))?;
  Some(MemoryInfo {
    memory64: ty.memory64,
    min_bytes: ty.initial.checked_mul(page)?,
    defined,
  })
}

/// The offset of a constant `i32.const`/`i64.const` expression of the
/// memory's address type; `None` for anything else (globals, extended
/// constants, a mistyped constant: wasmtime judges those).
fn const_offset(expr: &wasmparser::ConstExpr<'_>, memory64: bool) -> Option<u64> {
  let mut ops = expr.get_operators_reader();
  let offset = match (ops.read().ok()?, memory64) {
    (Operator::I32Const { value }, false) => u64::from(value as u32),
    (Operator::I64Const { value }, true) => value as u64,
    _ => return None,
  };
  matches!(ops.read().ok()?, Operator::End).then_some(offset)
}

/// The final bytes `segments` (in order; later ones win) leave in one
/// memory, as `(memory, offset, bytes)` runs sorted by offset.
fn merge<'a>(
  memory: u32,
  segments: impl Iterator<Item = &'a Active<'a>> + Clone,
  defined: bool,
) -> Vec<(u32, u64, Vec<u8>)> {
  let gap = if defined { ZERO_GAP } else { 0 };
  let mut ranges: Vec<(u64, u64)> = segments
    .clone()
    .filter(|s| !s.data.is_empty())
    .map(|s| (s.offset, s.offset + s.data.len() as u64))
    .collect();
  ranges.sort_unstable();
  let mut runs: Vec<(u64, u64)> = Vec::new();
  for (start, end) in ranges {
    match runs.last_mut() {
      Some(last) if start <= last.1.saturating_add(gap) => last.1 = last.1.max(end),
      _ => runs.push((start, end)),
    }
  }
  let mut out: Vec<(u32, u64, Vec<u8>)> = runs
    .iter()
    .map(|&(start, end)| (memory, start, vec![0; (end - start) as usize]))
    .collect();
  for segment in segments.filter(|s| !s.data.is_empty()) {
    // The run that starts at or before this segment holds all of it.
    let run = runs.partition_point(|&(start, _)| start <= segment.offset) - 1;
    let at = (segment.offset - out[run].1) as usize;
    out[run].2[at..at + segment.data.len()].copy_from_slice(segment.data);
  }
  out
}

fn encode_passive(out: &mut Vec<u8>, data: &[u8]) {
  out.push(0x01);
  leb128(out, data.len() as u64);
  out.extend_from_slice(data);
}

fn encode_active(out: &mut Vec<u8>, memory: u32, memory64: bool, offset: u64, data: &[u8]) {
  if memory == 0 {
    out.push(0x00);
  } else {
    out.push(0x02);
    leb128(out, u64::from(memory));
  }
  if memory64 {
    out.push(0x42);
    sleb128(out, offset as i64);
  } else {
    out.push(0x41);
    // i32.const holds the offset as a signed 32-bit value.
    sleb128(out, i64::from(offset as u32 as i32));
  }
  out.push(0x0b);
  leb128(out, data.len() as u64);
  out.extend_from_slice(data);
}

/// Where the section whose contents start at `contents` begins (its id):
/// the contents follow the id byte and the size's LEB128.
fn section_start(bytes: &[u8], contents: usize) -> Option<usize> {
  // The size takes 1 to 5 bytes; find the one that decodes to a LEB128
  // ending right before `contents` preceded by the data section's id.
  (1..=5).find_map(|len| {
    let id_at = contents.checked_sub(len + 1)?;
    let size = &bytes[id_at + 1..contents];
    let well_formed = bytes[id_at] == 11
      && size[..len - 1].iter().all(|b| b & 0x80 != 0)
      && size[len - 1] & 0x80 == 0;
    well_formed.then_some(id_at)
  })
}

/// Appends `value` as signed LEB128.
fn sleb128(out: &mut Vec<u8>, mut value: i64) {
  loop {
    let byte = (value & 0x7f) as u8;
    value >>= 7;
    let done = (value == 0 && byte & 0x40 == 0) || (value == -1 && byte & 0x40 != 0);
    if done {
      out.push(byte);
      return;
    }
    out.push(byte | 0x80);
  }
}
