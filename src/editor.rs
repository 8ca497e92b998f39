//! Writing a question in the user's editor (`$VISUAL`, else `$EDITOR`, else
//! `vi`): the text goes to a private temporary file, the editor runs on the
//! terminal, and what it saved comes back.

use std::io::IsTerminal;
use std::path::PathBuf;

/// The editor command: `$VISUAL`, `$EDITOR`, or `vi`. It may carry arguments
/// (`code --wait`), so it is run by the shell.
pub(crate) fn command() -> String {
    ["VISUAL", "EDITOR"]
        .iter()
        .filter_map(|var| std::env::var(var).ok())
        .find(|v| !v.trim().is_empty())
        .unwrap_or_else(|| "vi".into())
}

/// Opens `initial` in the editor and returns the saved text. Blocks until
/// the editor exits; the caller hands it the terminal first.
pub fn edit(initial: &str) -> Result<String, String> {
    let path = scratch_file()?;
    crate::paths::write_private(&path, initial)
        .map_err(|e| format!("cannot write {}: {e}", path.display()))?;
    let editor = command();
    let mut command = std::process::Command::new("sh");
    command
        .arg("-c")
        .arg(format!("{editor} \"$1\""))
        .arg("council-editor")
        .arg(&path);
    // With the question's context piped in, the editor still needs the terminal.
    if !std::io::stdin().is_terminal()
        && let Ok(tty) = std::fs::File::open("/dev/tty")
    {
        command.stdin(tty);
    }
    let status = command.status();
    let text = std::fs::read_to_string(&path);
    let _ = std::fs::remove_file(&path);
    if let Some(dir) = path.parent() {
        // Empty now, unless another question is being edited.
        let _ = std::fs::remove_dir(dir);
    }
    match status {
        Ok(s) if s.success() => {}
        Ok(s) => return Err(format!("the editor `{editor}` exited with {s}")),
        Err(e) => return Err(format!("cannot start the editor `{editor}`: {e}")),
    }
    text.map_err(|e| format!("cannot read the edited question: {e}"))
}

/// Opens the file at `path` in the editor and waits for it to exit.
pub fn edit_file(path: &std::path::Path) -> Result<(), String> {
    let editor = command();
    let status = std::process::Command::new("sh")
        .arg("-c")
        .arg(format!("{editor} \"$1\""))
        .arg("council-editor")
        .arg(path)
        .status();
    match status {
        Ok(s) if s.success() => Ok(()),
        Ok(s) => Err(format!("the editor `{editor}` exited with {s}")),
        Err(e) => Err(format!("cannot start the editor `{editor}`: {e}")),
    }
}

/// A new file for the question, readable by its owner only (questions can
/// hold private text).
fn scratch_file() -> Result<PathBuf, String> {
    let dir = std::env::temp_dir().join(format!("council-{}", std::process::id()));
    crate::paths::create_private_dir(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    Ok(dir.join(format!("question-{:08x}.md", rand::random::<u32>())))
}
