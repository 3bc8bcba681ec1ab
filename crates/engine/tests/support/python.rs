//! Python test peers (a real SMTP server, the Standard Webhooks reference library), installed by
//! the tests themselves into a virtual environment under `target/`, so `cargo test` works on a
//! fresh machine with Python 3 and network access to PyPI. A peer that cannot be installed fails
//! the test; it is never skipped.

use std::path::PathBuf;
use std::process::Command;
use std::sync::OnceLock;

/// The Python of the peers' virtual environment, created on first use.
pub fn python() -> PathBuf {
    static PYTHON: OnceLock<PathBuf> = OnceLock::new();
    PYTHON
        .get_or_init(|| {
            let venv = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("py-peers");
            let python = venv.join("bin/python");
            let requirements = peers_dir().join("requirements.txt");
            let marker = venv.join("installed.txt");
            let wanted = std::fs::read_to_string(&requirements).expect("requirements.txt");
            if std::fs::read_to_string(&marker).ok().as_deref() != Some(wanted.as_str()) {
                let created = Command::new("python3")
                    .args(["-m", "venv"])
                    .arg(&venv)
                    .status()
                    .expect("python3 runs");
                assert!(created.success(), "python3 -m venv failed");
                let installed = Command::new(&python)
                    .args(["-m", "pip", "install", "--quiet", "-r"])
                    .arg(&requirements)
                    .status()
                    .expect("pip runs");
                assert!(
                    installed.success(),
                    "installing the Python test peers failed"
                );
                std::fs::write(&marker, wanted).unwrap();
            }
            python
        })
        .clone()
}

/// `crates/engine/tests/peers`, also when this file is used by another crate's tests.
pub fn peers_dir() -> PathBuf {
    let crates = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("crates/")
        .to_owned();
    crates.join("engine/tests/peers")
}
