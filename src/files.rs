//! Files that input names, read and appended safely. Only regular files are
//! read: a device (`/dev/zero`), a FIFO or a socket could block or never
//! end. Reads go through a reader capped at a limit, never trusting the
//! size the metadata reports. A log that is appended to first loses a torn
//! last line, so the next record never sits glued to half of one.

use std::fmt;
use std::fs::File;
use std::io::{Read, Seek, SeekFrom};
use std::os::unix::fs::{FileTypeExt, OpenOptionsExt};
use std::path::Path;

use crate::attachments::human_size;

/// A session file (every turn of a conversation) read back.
pub const SESSION_BYTES: u64 = 256 * 1024 * 1024;
/// Presets, roles, themes, the config file, an eval's questions.
pub const CONFIG_BYTES: u64 = 4 * 1024 * 1024;

/// Why a file was not read.
#[derive(Debug)]
pub enum FileError {
    /// Not a regular file: what it is instead.
    NotRegular(&'static str),
    /// Longer than the cap for its kind.
    TooLarge {
        cap: u64,
    },
    Io(std::io::Error),
}

impl fmt::Display for FileError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            FileError::NotRegular(kind) => write!(f, "{kind}, not a regular file"),
            FileError::TooLarge { cap } => {
                write!(f, "over the {} cap for this file", human_size(*cap))
            }
            FileError::Io(e) => write!(f, "{e}"),
        }
    }
}

impl std::error::Error for FileError {}

impl From<std::io::Error> for FileError {
    fn from(e: std::io::Error) -> Self {
        FileError::Io(e)
    }
}

impl From<FileError> for std::io::Error {
    fn from(e: FileError) -> Self {
        match e {
            FileError::Io(e) => e,
            other => std::io::Error::new(std::io::ErrorKind::InvalidData, other.to_string()),
        }
    }
}

/// Opens `path` for reading if it is a regular file (after symlinks). The
/// open does not wait for a FIFO's writer, and the file is checked again
/// once open, so nothing swapped in between is read.
pub fn open_regular(path: &Path) -> Result<File, FileError> {
    kind_check(&std::fs::metadata(path)?.file_type())?;
    let file = File::options()
        .read(true)
        .custom_flags(libc::O_NONBLOCK)
        .open(path)?;
    kind_check(&file.metadata()?.file_type())?;
    Ok(file)
}

fn kind_check(kind: &std::fs::FileType) -> Result<(), FileError> {
    let what = if kind.is_file() {
        return Ok(());
    } else if kind.is_dir() {
        "a directory"
    } else if kind.is_fifo() {
        "a FIFO"
    } else if kind.is_char_device() || kind.is_block_device() {
        "a device"
    } else if kind.is_socket() {
        "a socket"
    } else {
        "a special file"
    };
    Err(FileError::NotRegular(what))
}

/// The bytes of the regular file `path`, at most `cap` of them.
pub fn read_capped(path: &Path, cap: u64) -> Result<Vec<u8>, FileError> {
    read_all_capped(open_regular(path)?, cap)
}

/// The text of the regular file `path`, at most `cap` bytes of it.
pub fn read_text_capped(path: &Path, cap: u64) -> Result<String, FileError> {
    let bytes = read_capped(path, cap)?;
    String::from_utf8(bytes).map_err(|_| {
        FileError::Io(std::io::Error::new(
            std::io::ErrorKind::InvalidData,
            "not UTF-8 text",
        ))
    })
}

/// Everything `reader` gives, failing once it gives more than `cap` bytes
/// (it is never read further than one byte past the cap).
pub fn read_all_capped(reader: impl Read, cap: u64) -> Result<Vec<u8>, FileError> {
    let mut bytes = Vec::new();
    reader.take(cap.saturating_add(1)).read_to_end(&mut bytes)?;
    if bytes.len() as u64 > cap {
        return Err(FileError::TooLarge { cap });
    }
    Ok(bytes)
}

/// Cuts a torn last line (a write killed or out of space midway) off the
/// file at `path`, so what is appended next starts a line of its own.
/// Returns whether anything was cut.
pub fn cut_torn_tail(path: &Path) -> std::io::Result<bool> {
    let mut file = File::options().read(true).write(true).open(path)?;
    let len = file.metadata()?.len();
    if len == 0 {
        return Ok(false);
    }
    // Back from the end, a block at a time, to the last newline.
    let mut end = len;
    let mut block = vec![0u8; 64 * 1024];
    loop {
        let start = end.saturating_sub(block.len() as u64);
        let chunk = &mut block[..(end - start) as usize];
        file.seek(SeekFrom::Start(start))?;
        file.read_exact(chunk)?;
        if end == len && chunk.last() == Some(&b'\n') {
            return Ok(false);
        }
        if let Some(at) = chunk.iter().rposition(|b| *b == b'\n') {
            file.set_len(start + at as u64 + 1)?;
            return Ok(true);
        }
        if start == 0 {
            file.set_len(0)?;
            return Ok(true);
        }
        end = start;
    }
}

/// Bytes as lowercase hex (a digest as sha256sum prints it).
pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// The SHA-256 of `data`, in hex.
pub fn sha256_hex(data: &[u8]) -> String {
    use sha2::Digest as _;
    hex(&sha2::Sha256::digest(data))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn temp(name: &str) -> std::path::PathBuf {
        let dir = std::env::temp_dir().join(format!(
            "council-files-{}-{}",
            std::process::id(),
            rand::random::<u32>()
        ));
        std::fs::create_dir_all(&dir).unwrap();
        dir.join(name)
    }

    #[test]
    fn a_torn_tail_is_cut_to_the_last_whole_line() {
        let path = temp("log.jsonl");
        std::fs::write(&path, "{\"a\":1}\n{\"b\":2}\n{\"c\":").unwrap();
        assert!(cut_torn_tail(&path).unwrap());
        assert_eq!(
            std::fs::read_to_string(&path).unwrap(),
            "{\"a\":1}\n{\"b\":2}\n"
        );
        assert!(!cut_torn_tail(&path).unwrap(), "a whole file is left be");
        // A tail longer than one block.
        let long = format!("{{\"a\":1}}\n{}", "x".repeat(200_000));
        std::fs::write(&path, long).unwrap();
        assert!(cut_torn_tail(&path).unwrap());
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "{\"a\":1}\n");
    }

    #[test]
    fn devices_fifos_and_directories_are_refused_and_reads_are_capped() {
        let err = read_capped(Path::new("/dev/zero"), 10).unwrap_err();
        assert!(matches!(err, FileError::NotRegular("a device")), "{err}");
        let fifo = temp("fifo");
        let name = std::ffi::CString::new(fifo.to_str().unwrap()).unwrap();
        assert_eq!(unsafe { libc::mkfifo(name.as_ptr(), 0o600) }, 0);
        let err = read_capped(&fifo, 10).unwrap_err();
        assert!(matches!(err, FileError::NotRegular("a FIFO")), "{err}");
        let dir = fifo.parent().unwrap();
        assert!(matches!(
            read_capped(dir, 10),
            Err(FileError::NotRegular("a directory"))
        ));
        let file = temp("f.txt");
        std::fs::write(&file, "0123456789").unwrap();
        assert_eq!(read_capped(&file, 10).unwrap().len(), 10);
        assert!(matches!(
            read_capped(&file, 9),
            Err(FileError::TooLarge { cap: 9 })
        ));
    }
}
