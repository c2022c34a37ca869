//! Legacy exception handling (`try`, `catch`, `catch_all`, `rethrow`,
//! `delegate`), rewritten into the final proposal's `try_table`,
//! `throw_ref` and `exnref` before compilation: Cranelift 48 compiles only
//! the latter, and toolchains (LLVM for Rust and Emscripten) still emit the
//! former. V8 runs both.
//!
//! Only modules wasmtime refuses for this reason are rewritten, and only
//! their functions that use legacy instructions. Per legacy `try` with
//! block type `P -> R` (each new block takes `P` too, so the values flow in):
//!
//! ```text
//! block $outer (P -> R)                  ;; the try's label in its handlers
//!   block $all (P -> exnref)             ;; if catch_all
//!     block $c2 (P -> T2 exnref)         ;; one per catch, the first innermost
//!       block $c1 (P -> T1 exnref)
//!         try_table (P -> R) (catch_ref $t1 $c1) (catch_ref $t2 $c2) (catch_all_ref $all)
//!           block $delegated (P -> exnref)   ;; where inner `delegate`s land
//!             body                           ;; the try's label here: try_table
//!             br 1
//!           end
//!           throw_ref                        ;; as if thrown by the body
//!         end
//!         br $outer
//!       end
//!       local.set $exn  h1  br $outer        ;; `rethrow` is local.get $exn, throw_ref
//!     end
//!     local.set $exn  h2  br $outer
//!   end
//!   local.set $exn  h_all
//! end
//! ```
//!
//! A `try ... delegate N` is a `try_table` whose `catch_all_ref` branches to
//! the `$delegated` block of the try at label N (or of the function, whose
//! body is wrapped the same way, to rethrow to the caller). Branch depths
//! are recomputed for the blocks added.

use std::borrow::Cow;
use std::collections::HashMap;

use wasm_encoder::reencode::{utils, Reencode, RoundtripReencoder};
use wasm_encoder::{BlockType, Catch, Function, Instruction};
use wasmparser::{
  BlockType as PBlockType, CompositeInnerType, FunctionBody, Operator, Parser, Payload, TypeRef,
  ValType,
};

/// Whether wasmtime's reason for refusing a module is legacy exception
/// handling.
pub fn is_legacy_error(reason: &str) -> bool {
  reason.contains("legacy_exceptions feature required")
    || reason.contains("legacy exception handling proposal is not supported")
}

/// The module with its legacy exception handling rewritten.
///
/// # Errors
/// A message if the module cannot be read or rewritten (it is then
/// refused with wasmtime's original reason).
pub fn translate(bytes: &[u8]) -> Result<Vec<u8>, String> {
  let info = Info::read(bytes).map_err(|e| format!("{e}"))?;
  let mut rewriter = Rewriter { info, function: 0 };
  let mut module = wasm_encoder::Module::new();
  rewriter
    .parse_core_module(&mut module, Parser::new(0), bytes)
    .map_err(|e| format!("{e:?}"))?;
  Ok(module.finish())
}

type Sig = (Vec<ValType>, Vec<ValType>);

/// What a legacy `try` turns out to have, read ahead (the `try_table`
/// lists its handlers up front).
#[derive(Default, Clone)]
struct TryInfo {
  catches: Vec<u32>,
  catch_all: bool,
  delegate: Option<u32>,
}

/// The module as the rewrite needs it.
#[derive(Default)]
struct Info {
  /// Function types by type index (None for other composite types).
  types: Vec<Option<Sig>>,
  /// The type index of each function (imported, then defined).
  func_types: Vec<u32>,
  imported_funcs: u32,
  /// The type index of each tag (imported, then defined).
  tag_types: Vec<u32>,
  /// Per defined function: its legacy `try`s in order, or None if it has
  /// no legacy instruction.
  tries: Vec<Option<Vec<TryInfo>>>,
  /// Block types that need a new function type, and its index.
  new_types: Vec<Sig>,
  new_type_index: HashMap<Sig, u32>,
}

impl Info {
  fn read(bytes: &[u8]) -> wasmparser::Result<Info> {
    let mut info = Info::default();
    for payload in Parser::new(0).parse_all(bytes) {
      match payload? {
        Payload::TypeSection(reader) => {
          for group in reader {
            for sub in group?.into_types() {
              info.types.push(match &sub.composite_type.inner {
                CompositeInnerType::Func(f) => Some((f.params().to_vec(), f.results().to_vec())),
                _ => None,
              });
            }
          }
        }
        Payload::ImportSection(reader) => {
          for import in reader.into_imports() {
            match import?.ty {
              TypeRef::Func(t) | TypeRef::FuncExact(t) => {
                info.func_types.push(t);
                info.imported_funcs += 1;
              }
              TypeRef::Tag(t) => info.tag_types.push(t.func_type_idx),
              _ => {}
            }
          }
        }
        Payload::FunctionSection(reader) => {
          for t in reader {
            info.func_types.push(t?);
          }
        }
        Payload::TagSection(reader) => {
          for t in reader {
            info.tag_types.push(t?.func_type_idx);
          }
        }
        Payload::CodeSectionEntry(body) => {
          let tries = info.scan(&body)?;
          info.tries.push(tries);
        }
        _ => {}
      }
    }
    Ok(info)
  }

  /// The legacy `try`s of one function (None if it has no legacy
  /// instruction), registering the block types they will need.
  fn scan(&mut self, body: &FunctionBody<'_>) -> wasmparser::Result<Option<Vec<TryInfo>>> {
    let mut tries: Vec<TryInfo> = Vec::new();
    // Open frames: Some(index in `tries`) for legacy trys.
    let mut frames: Vec<Option<usize>> = Vec::new();
    let mut legacy = false;
    let mut blocktypes = Vec::new();
    for op in body.get_operators_reader()? {
      match op? {
        Operator::Block { .. }
        | Operator::Loop { .. }
        | Operator::If { .. }
        | Operator::TryTable { .. } => frames.push(None),
        Operator::Try { blockty } => {
          legacy = true;
          frames.push(Some(tries.len()));
          tries.push(TryInfo::default());
          blocktypes.push(blockty);
        }
        Operator::Catch { tag_index } => {
          legacy = true;
          if let Some(Some(i)) = frames.last() {
            tries[*i].catches.push(tag_index);
          }
        }
        Operator::CatchAll => {
          legacy = true;
          if let Some(Some(i)) = frames.last() {
            tries[*i].catch_all = true;
          }
        }
        Operator::Delegate { relative_depth } => {
          legacy = true;
          if let Some(Some(i)) = frames.pop() {
            tries[i].delegate = Some(relative_depth);
          }
        }
        Operator::Rethrow { .. } => legacy = true,
        Operator::End => {
          frames.pop();
        }
        _ => {}
      }
    }
    if !legacy {
      return Ok(None);
    }
    for (t, bt) in tries.iter().zip(blocktypes) {
      let (params, _) = self.sig(bt);
      self.need((params.clone(), vec![ValType::EXNREF]));
      for &tag in &t.catches {
        let mut results = self.tag_params(tag);
        results.push(ValType::EXNREF);
        self.need((params.clone(), results));
      }
    }
    Ok(Some(tries))
  }

  fn sig(&self, bt: PBlockType) -> Sig {
    match bt {
      PBlockType::Empty => (vec![], vec![]),
      PBlockType::Type(t) => (vec![], vec![t]),
      PBlockType::FuncType(i) => self
        .types
        .get(i as usize)
        .cloned()
        .flatten()
        .unwrap_or_default(),
    }
  }

  fn tag_params(&self, tag: u32) -> Vec<ValType> {
    self
      .tag_types
      .get(tag as usize)
      .and_then(|&t| self.types.get(t as usize).cloned().flatten())
      .map(|(p, _)| p)
      .unwrap_or_default()
  }

  /// Registers a block type that needs a function type of its own.
  fn need(&mut self, sig: Sig) {
    if sig.0.is_empty() && sig.1.len() <= 1 {
      return;
    }
    if !self.new_type_index.contains_key(&sig) {
      let index = (self.types.len() + self.new_types.len()) as u32;
      self.new_type_index.insert(sig.clone(), index);
      self.new_types.push(sig);
    }
  }
}

struct Rewriter {
  info: Info,
  /// The index of the next defined function's body.
  function: usize,
}

type ReError = wasm_encoder::reencode::Error<String>;

impl Reencode for Rewriter {
  type Error = String;

  fn parse_type_section(
    &mut self,
    types: &mut wasm_encoder::TypeSection,
    section: wasmparser::TypeSectionReader<'_>,
  ) -> Result<(), ReError> {
    utils::parse_type_section(self, types, section)?;
    for (params, results) in self.info.new_types.clone() {
      let params = params
        .into_iter()
        .map(|t| self.val_type(t))
        .collect::<Result<Vec<_>, _>>()?;
      let results = results
        .into_iter()
        .map(|t| self.val_type(t))
        .collect::<Result<Vec<_>, _>>()?;
      types.ty().function(params, results);
    }
    Ok(())
  }

  fn parse_function_body(
    &mut self,
    code: &mut wasm_encoder::CodeSection,
    func: FunctionBody<'_>,
  ) -> Result<(), ReError> {
    let index = self.function;
    self.function += 1;
    let Some(tries) = self.info.tries.get(index).cloned().flatten() else {
      return utils::parse_function_body(self, code, func);
    };
    let f = self.rewrite(index, &func, tries)?;
    code.function(&f);
    Ok(())
  }
}

/// A frame of the original code, and where its label went.
struct Frame {
  /// The index (from the function's frame, 0) of the new frame a branch to
  /// this label targets.
  target: usize,
  legacy: Option<Legacy>,
}

/// A legacy `try` being rewritten.
struct Legacy {
  /// The new frame of `$delegated` inside its `try_table`.
  delegated: usize,
  /// `$outer`, which its handlers branch to.
  outer: usize,
  exn_local: u32,
  in_handler: bool,
  has_handlers: bool,
}

impl Rewriter {
  fn sig_block_type(&self, sig: Sig) -> Result<BlockType, ReError> {
    if sig.0.is_empty() && sig.1.len() <= 1 {
      return Ok(match sig.1.first() {
        None => BlockType::Empty,
        Some(&t) => BlockType::Result(
          RoundtripReencoder
            .val_type(t)
            .map_err(|e| wasm_encoder::reencode::Error::UserError(format!("{e:?}")))?,
        ),
      });
    }
    Ok(BlockType::FunctionType(self.info.new_type_index[&sig]))
  }

  fn rewrite(
    &mut self,
    index: usize,
    func: &FunctionBody<'_>,
    tries: Vec<TryInfo>,
  ) -> Result<Function, ReError> {
    let type_index = self.info.func_types[self.info.imported_funcs as usize + index];
    let params = self
      .info
      .types
      .get(type_index as usize)
      .cloned()
      .flatten()
      .map_or(0, |(p, _)| p.len() as u32);
    let mut locals = Vec::new();
    let mut count = params;
    for pair in func.get_locals_reader()? {
      let (n, ty) = pair?;
      count += n;
      locals.push((n, self.val_type(ty)?));
    }
    // One exnref local per try with handlers, for `rethrow`.
    let handlers = tries
      .iter()
      .filter(|t| !t.catches.is_empty() || t.catch_all)
      .count() as u32;
    if handlers > 0 {
      locals.push((
        handlers,
        wasm_encoder::ValType::Ref(wasm_encoder::RefType::EXNREF),
      ));
    }
    let mut next_local = count;
    let mut f = Function::new(locals);
    let exn_block = BlockType::Result(wasm_encoder::ValType::Ref(wasm_encoder::RefType::EXNREF));
    // The function's frame is 0; `$delegated` of the function is 1.
    f.instruction(&Instruction::Block(exn_block));
    let mut depth = 2usize;
    let mut frames = vec![Frame {
      target: 0,
      legacy: Some(Legacy {
        delegated: 1,
        outer: 0,
        exn_local: u32::MAX,
        in_handler: false,
        has_handlers: false,
      }),
    }];
    let mut next_try = 0;
    let rel = |depth: usize, target: usize| (depth - 1 - target) as u32;
    let label = |frames: &[Frame], depth: usize, n: u32| -> u32 {
      let frame = &frames[frames.len() - 1 - n as usize];
      rel(depth, frame.target)
    };
    let mut reader = func.get_operators_reader()?;
    while !reader.eof() {
      let op = reader.read()?;
      match op {
        Operator::Block { .. } | Operator::Loop { .. } | Operator::If { .. } => {
          f.instruction(&self.instruction(op)?);
          frames.push(Frame {
            target: depth,
            legacy: None,
          });
          depth += 1;
        }
        Operator::TryTable { try_table } => {
          let catches: Vec<Catch> = try_table
            .catches
            .iter()
            .map(|c| match *c {
              wasmparser::Catch::One { tag, label: l } => Catch::One {
                tag,
                label: label(&frames, depth, l),
              },
              wasmparser::Catch::OneRef { tag, label: l } => Catch::OneRef {
                tag,
                label: label(&frames, depth, l),
              },
              wasmparser::Catch::All { label: l } => Catch::All {
                label: label(&frames, depth, l),
              },
              wasmparser::Catch::AllRef { label: l } => Catch::AllRef {
                label: label(&frames, depth, l),
              },
            })
            .collect();
          let bt = self.block_type_of(try_table.ty)?;
          f.instruction(&Instruction::TryTable(bt, Cow::Owned(catches)));
          frames.push(Frame {
            target: depth,
            legacy: None,
          });
          depth += 1;
        }
        Operator::Try { blockty } => {
          let info = tries.get(next_try).cloned().unwrap_or_default();
          next_try += 1;
          let (params, _) = self.info.sig(blockty);
          let bt = self.block_type_of(blockty)?;
          let has_handlers = !info.catches.is_empty() || info.catch_all;
          let mut outer = depth;
          let exn_local = if has_handlers {
            next_local += 1;
            next_local - 1
          } else {
            u32::MAX
          };
          let mut catches = Vec::new();
          if has_handlers {
            f.instruction(&Instruction::Block(bt));
            outer = depth;
            depth += 1;
            // Handler blocks: catch_all outermost, the first catch innermost.
            let mut handler_frames = Vec::new();
            if info.catch_all {
              f.instruction(&Instruction::Block(
                self.sig_block_type((params.clone(), vec![ValType::EXNREF]))?,
              ));
              handler_frames.push((None, depth));
              depth += 1;
            }
            for &tag in info.catches.iter().rev() {
              let mut results = self.info.tag_params(tag);
              results.push(ValType::EXNREF);
              f.instruction(&Instruction::Block(
                self.sig_block_type((params.clone(), results))?,
              ));
              handler_frames.push((Some(tag), depth));
              depth += 1;
            }
            // Catch clauses in the try's order: first catch, ..., catch_all.
            for (tag, at) in handler_frames.iter().rev() {
              let l = rel(depth, *at);
              catches.push(match tag {
                Some(tag) => Catch::OneRef {
                  tag: *tag,
                  label: l,
                },
                None => Catch::AllRef { label: l },
              });
            }
          } else if let Some(n) = info.delegate {
            // To the `$delegated` of the nearest try (in its body) at or
            // outside label n, or the function's.
            let start = frames.len().saturating_sub(1 + n as usize);
            let target = frames[..=start]
              .iter()
              .rev()
              .find_map(|fr| {
                fr.legacy
                  .as_ref()
                  .filter(|l| !l.in_handler)
                  .map(|l| l.delegated)
              })
              .unwrap_or(1);
            catches.push(Catch::AllRef {
              label: rel(depth, target),
            });
          }
          f.instruction(&Instruction::TryTable(bt, Cow::Owned(catches)));
          let try_frame = depth;
          depth += 1;
          f.instruction(&Instruction::Block(
            self.sig_block_type((params.clone(), vec![ValType::EXNREF]))?,
          ));
          let delegated = depth;
          depth += 1;
          frames.push(Frame {
            target: try_frame,
            legacy: Some(Legacy {
              delegated,
              outer,
              exn_local,
              in_handler: false,
              has_handlers,
            }),
          });
        }
        Operator::Catch { .. } | Operator::CatchAll => {
          let Some(Frame {
            target,
            legacy: Some(l),
          }) = frames.last_mut()
          else {
            return Err(wasm_encoder::reencode::Error::UserError(unreachable_error()));
          };
          if !l.in_handler {
            // End of the body: leave the try_table with its results.
            f.instruction(&Instruction::Br(1));
            f.instruction(&Instruction::End);
            f.instruction(&Instruction::ThrowRef);
            f.instruction(&Instruction::End);
            depth -= 2;
            f.instruction(&Instruction::Br(rel(depth, l.outer)));
            l.in_handler = true;
            *target = l.outer;
          } else {
            f.instruction(&Instruction::Br(rel(depth, l.outer)));
          }
          // Close this handler's block: its values and the exnref.
          f.instruction(&Instruction::End);
          depth -= 1;
          f.instruction(&Instruction::LocalSet(l.exn_local));
        }
        Operator::Delegate { .. } => {
          // The body ends: its results leave the try_table.
          f.instruction(&Instruction::Br(1));
          f.instruction(&Instruction::End);
          f.instruction(&Instruction::ThrowRef);
          f.instruction(&Instruction::End);
          depth -= 2;
          frames.pop();
        }
        Operator::End => {
          let frame = frames.pop();
          match frame {
            _ if frames.is_empty() => {
              // The function's end: its `$delegated` rethrows to the caller.
              f.instruction(&Instruction::Return);
              f.instruction(&Instruction::End);
              f.instruction(&Instruction::ThrowRef);
              f.instruction(&Instruction::End);
              depth = 0;
            }
            Some(Frame {
              legacy: Some(l), ..
            }) => {
              if l.in_handler {
                // The last handler falls through to `$outer`'s end.
                f.instruction(&Instruction::End);
                depth -= 1;
              } else {
                f.instruction(&Instruction::Br(1));
                f.instruction(&Instruction::End);
                f.instruction(&Instruction::ThrowRef);
                f.instruction(&Instruction::End);
                depth -= 2;
                if l.has_handlers {
                  // (A try whose handlers never came: not valid wasm.)
                  return Err(wasm_encoder::reencode::Error::UserError(unreachable_error()));
                }
              }
            }
            _ => {
              f.instruction(&Instruction::End);
              depth -= 1;
            }
          }
        }
        Operator::Rethrow { relative_depth } => {
          let frame = &frames[frames.len() - 1 - relative_depth as usize];
          let local = frame.legacy.as_ref().map_or(u32::MAX, |l| l.exn_local);
          f.instruction(&Instruction::LocalGet(local));
          f.instruction(&Instruction::ThrowRef);
        }
        Operator::Br { relative_depth } => {
          f.instruction(&Instruction::Br(label(&frames, depth, relative_depth)));
        }
        Operator::BrIf { relative_depth } => {
          f.instruction(&Instruction::BrIf(label(&frames, depth, relative_depth)));
        }
        Operator::BrOnNull { relative_depth } => {
          f.instruction(&Instruction::BrOnNull(label(
            &frames,
            depth,
            relative_depth,
          )));
        }
        Operator::BrOnNonNull { relative_depth } => {
          f.instruction(&Instruction::BrOnNonNull(label(
            &frames,
            depth,
            relative_depth,
          )));
        }
        Operator::BrTable { targets } => {
          let list = targets
            .targets()
            .map(|t| t.map(|n| label(&frames, depth, n)))
            .collect::<Result<Vec<_>, _>>()?;
          let default = label(&frames, depth, targets.default());
          f.instruction(&Instruction::BrTable(Cow::Owned(list), default));
        }
        other => {
          f.instruction(&self.instruction(other)?);
        }
      }
    }
    Ok(f)
  }

  fn block_type_of(&mut self, bt: PBlockType) -> Result<BlockType, ReError> {
    Reencode::block_type(self, bt)
  }
}

/// Malformed legacy code: reported by wasmtime's own error instead.
fn unreachable_error() -> String {
  "malformed legacy exception handling".to_owned()
}
