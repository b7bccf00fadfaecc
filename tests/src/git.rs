//! A git repository for tests of the git source: a bare repository `git+file://` reads,
//! and a work tree that commits `prod/stack.yaml` and pushes it there.

use std::process::Command;

use crate::env::Env;

/// Runs git in `dir` with a test identity; answers its trimmed stdout.
pub fn git(dir: &std::path::Path, args: &[&str]) -> String {
    let out = Command::new("git")
        .arg("-C")
        .arg(dir)
        .args([
            "-c",
            "user.name=ecsd tests",
            "-c",
            "user.email=tests@ecsd.invalid",
        ])
        .args(args)
        .output()
        .expect("run git");
    assert!(
        out.status.success(),
        "git {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).trim().to_owned()
}

/// A bare repository the git source reads, and a work tree that commits
/// `prod/stack.yaml` and pushes it there.
pub struct GitRepo {
    pub bare: std::path::PathBuf,
    pub work: std::path::PathBuf,
    pub cache: std::path::PathBuf,
}

impl GitRepo {
    pub fn new(env: &Env) -> GitRepo {
        let repo = GitRepo {
            bare: env.dir.with_extension("git"),
            work: env.dir.with_extension("work"),
            cache: env.dir.with_extension("cache"),
        };
        for d in [&repo.bare, &repo.work] {
            std::fs::create_dir_all(d).expect("mkdir");
        }
        git(
            &repo.bare,
            &["init", "-q", "--bare", "--initial-branch=main"],
        );
        git(&repo.work, &["init", "-q", "--initial-branch=main"]);
        let origin = repo.bare.to_str().expect("utf-8");
        git(&repo.work, &["remote", "add", "origin", origin]);
        repo
    }

    /// Commits `text` as `prod/stack.yaml`, pushes, and answers the commit id.
    pub fn commit(&self, text: &str, message: &str) -> String {
        std::fs::create_dir_all(self.work.join("prod")).expect("mkdir");
        std::fs::write(self.work.join("prod/stack.yaml"), text).expect("write");
        git(&self.work, &["add", "-A"]);
        git(&self.work, &["commit", "-q", "-m", message]);
        git(&self.work, &["push", "-q", "origin", "main"]);
        git(&self.work, &["rev-parse", "HEAD"])
    }

    /// `--source` for it.
    pub fn source(&self) -> String {
        format!("git+file://{}", self.bare.display())
    }

    /// `--cache-dir` for the source's clone.
    pub fn cache(&self) -> String {
        self.cache.to_str().expect("utf-8").to_owned()
    }
}
