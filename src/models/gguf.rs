//! Reads a GGUF file's metadata header (architecture, name, context length,
//! chat template) without loading the model, so `council models list` works
//! in builds without the embedded engine.

use std::collections::HashMap;
use std::fs::File;
use std::io::{BufReader, Read, Seek, SeekFrom};
use std::path::Path;

/// What `models list` shows of a GGUF file.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct GgufInfo {
    pub architecture: Option<String>,
    pub(crate) name: Option<String>,
    pub context_length: Option<u64>,
    pub has_chat_template: bool,
    pub(crate) tensors: u64,
}

#[derive(Debug, Clone, PartialEq)]
enum Scalar {
    Int(i128),
    Float(f64),
    Bool(bool),
    Str(String),
}

const MAGIC: &[u8; 4] = b"GGUF";
/// Keys and strings longer than this are not metadata anyone writes; a file
/// claiming one is corrupt, and reading it would exhaust memory.
const MAX_STRING: u64 = 64 << 20;

pub(crate) fn read_info(path: &Path) -> Result<GgufInfo, String> {
    let file = File::open(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let mut r = BufReader::new(file);
    read_from(&mut r).map_err(|e| format!("{}: not a readable GGUF file: {e}", path.display()))
}

fn read_from<R: Read + Seek>(r: &mut R) -> Result<GgufInfo, String> {
    let mut magic = [0u8; 4];
    r.read_exact(&mut magic).map_err(|e| e.to_string())?;
    if &magic != MAGIC {
        return Err("bad magic".into());
    }
    let version = u32_le(r)?;
    if version < 2 {
        return Err(format!("GGUF version {version} is too old"));
    }
    let tensors = u64_le(r)?;
    let kv_count = u64_le(r)?;
    let mut kv: HashMap<String, Scalar> = HashMap::new();
    for _ in 0..kv_count {
        let key = string(r)?;
        let ty = u32_le(r)?;
        if let Some(value) = value(r, ty)? {
            kv.insert(key, value);
        }
    }
    let text = |k: &str| match kv.get(k) {
        Some(Scalar::Str(s)) => Some(s.clone()),
        _ => None,
    };
    let architecture = text("general.architecture");
    let context_length = architecture
        .as_ref()
        .and_then(|a| kv.get(&format!("{a}.context_length")))
        .and_then(|v| match v {
            Scalar::Int(n) => u64::try_from(*n).ok(),
            _ => None,
        });
    Ok(GgufInfo {
        name: text("general.name"),
        has_chat_template: kv.contains_key("tokenizer.chat_template"),
        architecture,
        context_length,
        tensors,
    })
}

/// Reads one value; arrays are skipped (they hold vocabularies, not facts
/// worth listing) and return `None`.
fn value<R: Read + Seek>(r: &mut R, ty: u32) -> Result<Option<Scalar>, String> {
    Ok(Some(match ty {
        0 => Scalar::Int(fixed::<1, _>(r)?[0] as i128),
        1 => Scalar::Int(fixed::<1, _>(r)?[0] as i8 as i128),
        2 => Scalar::Int(u16::from_le_bytes(fixed(r)?) as i128),
        3 => Scalar::Int(i16::from_le_bytes(fixed(r)?) as i128),
        4 => Scalar::Int(u32_le(r)? as i128),
        5 => Scalar::Int(i32::from_le_bytes(fixed(r)?) as i128),
        6 => Scalar::Float(f32::from_le_bytes(fixed(r)?) as f64),
        7 => Scalar::Bool(fixed::<1, _>(r)?[0] != 0),
        8 => Scalar::Str(string(r)?),
        9 => {
            let item = u32_le(r)?;
            let len = u64_le(r)?;
            match item {
                8 => {
                    for _ in 0..len {
                        let n = u64_le(r)?;
                        skip(r, n)?;
                    }
                }
                9 => return Err("nested arrays are not supported".into()),
                _ => {
                    let size = scalar_size(item)?;
                    skip(r, len.checked_mul(size).ok_or("array too large")?)?;
                }
            }
            return Ok(None);
        }
        10 => Scalar::Int(u64_le(r)? as i128),
        11 => Scalar::Int(i64::from_le_bytes(fixed(r)?) as i128),
        12 => Scalar::Float(f64::from_le_bytes(fixed(r)?)),
        other => return Err(format!("unknown value type {other}")),
    }))
}

fn scalar_size(ty: u32) -> Result<u64, String> {
    Ok(match ty {
        0 | 1 | 7 => 1,
        2 | 3 => 2,
        4..=6 => 4,
        10..=12 => 8,
        other => return Err(format!("unknown array item type {other}")),
    })
}

fn fixed<const N: usize, R: Read>(r: &mut R) -> Result<[u8; N], String> {
    let mut b = [0u8; N];
    r.read_exact(&mut b).map_err(|e| e.to_string())?;
    Ok(b)
}

fn u32_le<R: Read>(r: &mut R) -> Result<u32, String> {
    Ok(u32::from_le_bytes(fixed(r)?))
}

fn u64_le<R: Read>(r: &mut R) -> Result<u64, String> {
    Ok(u64::from_le_bytes(fixed(r)?))
}

fn string<R: Read>(r: &mut R) -> Result<String, String> {
    let len = u64_le(r)?;
    if len > MAX_STRING {
        return Err(format!("a string of {len} bytes"));
    }
    let mut b = vec![0u8; len as usize];
    r.read_exact(&mut b).map_err(|e| e.to_string())?;
    Ok(String::from_utf8_lossy(&b).into_owned())
}

fn skip<R: Seek>(r: &mut R, n: u64) -> Result<(), String> {
    let n = i64::try_from(n).map_err(|_| "offset too large")?;
    r.seek(SeekFrom::Current(n)).map_err(|e| e.to_string())?;
    Ok(())
}

#[cfg(test)]
pub(crate) mod tests {
    use std::io::Cursor;

    use super::*;

    /// A GGUF header with the given key/values (strings, u32s, a string array).
    pub(crate) fn header(entries: &[(&str, &str)], context: Option<u32>) -> Vec<u8> {
        let mut out = b"GGUF".to_vec();
        out.extend(3u32.to_le_bytes());
        out.extend(0u64.to_le_bytes());
        let n = entries.len() + usize::from(context.is_some()) + 1;
        out.extend((n as u64).to_le_bytes());
        let s = |out: &mut Vec<u8>, t: &str| {
            out.extend((t.len() as u64).to_le_bytes());
            out.extend(t.as_bytes());
        };
        // A vocabulary-like array first, to be skipped.
        s(&mut out, "tokenizer.ggml.tokens");
        out.extend(9u32.to_le_bytes());
        out.extend(8u32.to_le_bytes());
        out.extend(3u64.to_le_bytes());
        for t in ["<s>", "hello", "world"] {
            s(&mut out, t);
        }
        for (k, v) in entries {
            s(&mut out, k);
            out.extend(8u32.to_le_bytes());
            s(&mut out, v);
        }
        if let Some(c) = context {
            s(&mut out, "llama.context_length");
            out.extend(4u32.to_le_bytes());
            out.extend(c.to_le_bytes());
        }
        out
    }

    #[test]
    fn reads_architecture_name_and_context() {
        let bytes = header(
            &[
                ("general.architecture", "llama"),
                ("general.name", "Tiny"),
                ("tokenizer.chat_template", "{{ x }}"),
            ],
            Some(8192),
        );
        let info = read_from(&mut Cursor::new(bytes)).unwrap();
        assert_eq!(info.architecture.as_deref(), Some("llama"));
        assert_eq!(info.name.as_deref(), Some("Tiny"));
        assert_eq!(info.context_length, Some(8192));
        assert!(info.has_chat_template);
    }

    #[test]
    fn rejects_what_is_not_gguf() {
        assert_eq!(
            read_from(&mut Cursor::new(b"PK\x03\x04rest".to_vec())).unwrap_err(),
            "bad magic"
        );
        let mut truncated = header(&[("general.architecture", "llama")], None);
        truncated.truncate(truncated.len() - 3);
        assert!(read_from(&mut Cursor::new(truncated)).is_err());
    }
}
